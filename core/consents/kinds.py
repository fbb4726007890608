"""Every consent a person can give or withdraw, each described once: the account page, the
ledger and the senders all read this table."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from praxis.core.providers.common import DataCategory


class Method(enum.StrEnum):
    """How the choice reached the clinic."""

    PORTAL = "portal"
    SMS_KEYWORD = "sms_keyword"
    EMAIL_LINK = "email_link"
    SMS_LINK = "sms_link"  # the confirmation link in a text (news without an account)
    EMAIL_REPLY = "email_reply"
    STAFF_WRITTEN_REQUEST = "staff_written_request"
    PROVIDER_REPORT = "provider_report"  # the carrier says the number unsubscribed


@dataclass(frozen=True)
class ConsentKind:
    purpose: str
    channel: str
    label: str  # what the person reads on "Privacy and consents"
    explains: str
    default: bool  # the state before any record: service messages on, everything else off
    category: DataCategory | None  # what the channel uses, for the ledger
    ledger_purpose: str
    withdrawn_operation: str
    given_operation: str
    per_professional: bool = False

    @property
    def key(self) -> str:
        return f"{self.purpose}.{self.channel}"


SERVICE_SMS = ConsentKind(
    "service",
    "sms",
    "Appointment messages by text",
    "Confirmations, reminders and cancellations of your appointments, sent to your phone.",
    True,
    DataCategory.PHONE,
    "appointment text messages",
    "sms_opt_out",
    "sms_opt_in",
)
SERVICE_EMAIL = ConsentKind(
    "service",
    "email",
    "Appointment messages by email",
    "Confirmations, reminders and cancellations of your appointments, sent to your email.",
    True,
    DataCategory.EMAIL,
    "appointment emails",
    "email_opt_out",
    "email_opt_in",
)
MARKETING_SMS = ConsentKind(
    "marketing",
    "sms",
    "News and offers by text",
    "The clinic's news and offers, sent to your phone. Reply STOP to any of them to stop.",
    False,
    DataCategory.PHONE,
    "marketing text messages",
    "marketing_sms_opt_out",
    "marketing_sms_opt_in",
)
MARKETING_EMAIL = ConsentKind(
    "marketing",
    "email",
    "News and offers by email",
    "The clinic's news and offers, sent to your email. Every one has an unsubscribe link.",
    False,
    DataCategory.EMAIL,
    "marketing emails",
    "marketing_email_opt_out",
    "marketing_email_opt_in",
)
INTAKE_SHARING = ConsentKind(
    "intake_sharing",
    "professional",
    "Sharing your intake answers",
    "Your Professional may read the answers you gave in the intake questionnaire.",
    False,
    DataCategory.HEALTH,
    "prepare for and provide the booked consultation",
    "share_intake_answers",
    "share_intake_answers",
    per_professional=True,
)
ANALYTICS_COOKIES = ConsentKind(
    "analytics",
    "cookies",
    "Analytics cookies",
    "Cookies that count visits to improve the site. Without consent none are set.",
    False,
    None,
    "site analytics",
    "analytics_cookies_rejected",
    "analytics_cookies_accepted",
)

KINDS = (
    SERVICE_SMS,
    SERVICE_EMAIL,
    MARKETING_SMS,
    MARKETING_EMAIL,
    INTAKE_SHARING,
    ANALYTICS_COOKIES,
)
BY_KEY = {kind.key: kind for kind in KINDS}
MARKETING = {"sms": MARKETING_SMS, "email": MARKETING_EMAIL}
LEGAL_BASIS = {
    "service": "the person's own choice",
    "marketing": "consent (PECR reg. 22; UK GDPR Art. 6(1)(a))",
    "intake_sharing": "explicit consent (UK GDPR Art. 9(2)(a))",
    "analytics": "consent (PECR reg. 6)",
}
