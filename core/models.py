"""Every table, imported in one place so that Base.metadata knows them all (alembic, tests)."""

from __future__ import annotations

from praxis.core import datakeys, ledger, outbox, webhooks
from praxis.core.accounts import invitations, photos, security_log
from praxis.core.accounts import models as accounts
from praxis.core.analytics import models as analytics
from praxis.core.booking import models as booking
from praxis.core.branding import models as branding
from praxis.core.consents import models as consents
from praxis.core.consents import subscribers
from praxis.core.desk import claims as desk_claims
from praxis.core.identity import models as identity
from praxis.core.intake import models as intake
from praxis.core.notifications import campaigns
from praxis.core.notifications import models as notifications
from praxis.core.payments import models as payments
from praxis.core.plugins import settings as provider_settings
from praxis.core.privacy import models as privacy
from praxis.core.video import models as video
from praxis.tenants import models as tenants

__all__ = [
    "accounts",
    "analytics",
    "booking",
    "branding",
    "campaigns",
    "consents",
    "datakeys",
    "desk_claims",
    "identity",
    "intake",
    "invitations",
    "ledger",
    "notifications",
    "outbox",
    "payments",
    "photos",
    "privacy",
    "provider_settings",
    "security_log",
    "subscribers",
    "tenants",
    "video",
    "webhooks",
]
