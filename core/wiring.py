"""Every domain module that registers outbox handlers, event subscribers or webhook appliers,
imported once here so that a process which confirms a booking, runs a job or takes a webhook
has them all: the runtime imports this, and a test checks each event's subscribers."""

from __future__ import annotations

from praxis.core.accounts import alerts as account_alerts
from praxis.core.accounts import invitations, password_reset
from praxis.core.consents import subscribers
from praxis.core.desk import claims as desk_claims
from praxis.core.notifications import applications, campaigns, history
from praxis.core.notifications import erasure as message_erasure
from praxis.core.notifications import services as notifications
from praxis.core.payments import services as payments
from praxis.core.privacy import announce as privacy_notices
from praxis.core.privacy import clinic_export, correction, export, requests
from praxis.core.privacy import exit as clinic_exit
from praxis.core.video import services as video

DOMAINS = (
    account_alerts,
    applications,
    clinic_exit,
    clinic_export,
    correction,
    desk_claims,
    export,
    invitations,
    message_erasure,
    notifications,
    campaigns,
    payments,
    password_reset,
    privacy_notices,
    requests,
    subscribers,
    video,
)

# The domains below privacy add their records to "Download my data" here (P31).
export.register(
    "messages",
    "Messages sent to you",
    lambda src: history.sent_messages(src.db, src.user.id),
)
