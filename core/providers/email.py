"""Email: the DTOs and the Protocol an email plugin implements.

Lifecycle: each email is an outbox job; ``send_email`` may run more than once for one email
with the same ``idempotency_key`` (derive the Message-ID from it, so a receiving server can
tell a repeat). Since plugin API 1.1 an email plugin may also receive the clinic's inbound
mail through its webhook (``EmailInboundProvider``): the platform reads the sender and the
subject only, so an email headed "Unsubscribe" opts its sender out of marketing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from praxis.core.providers.common import (
    DataCategory,
    Kind,
    Operation,
    ProviderId,
    WebhookReply,
    WebhookRequest,
)


@dataclass(frozen=True)
class Attachment:
    """A file sent with an email, e.g. an appointment's ``.ics`` for the recipient's calendar."""

    filename: str
    content_type: str  # "text/calendar"
    data: bytes


@dataclass(frozen=True)
class EmailMessage:
    idempotency_key: str  # the same on every retry; a good Message-ID is derived from it
    to: str
    subject: str
    text: str
    sender_name: str  # the clinic's name, shown as the sender
    about: tuple[DataCategory, ...]  # what the text tells about the person, e.g. APPOINTMENT
    reply_to: str | None = None
    tenant_slug: str = ""  # which clinic sent it (a header, for the development mailbox)
    attempt: int = 1  # 1 on the first try
    # Extra headers to set as given (plugin API 1.1), e.g. List-Unsubscribe on marketing.
    headers: tuple[tuple[str, str], ...] = ()
    # Files to attach (an addition with a default: a plugin that ignores it sends the text).
    attachments: tuple[Attachment, ...] = ()

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return (DataCategory.EMAIL, *(c for c in self.about if c is not DataCategory.EMAIL))


@dataclass(frozen=True)
class EmailReceipt:
    message_id: ProviderId
    recovered: bool | None = None  # as SmsReceipt's; SMTP cannot tell (None)


@dataclass(frozen=True)
class EmailInbound:
    """An email someone sent to the clinic (since 1.1): who from and its subject, no body."""

    event_id: ProviderId  # the Message-ID, or a digest of the message: the same on a resend
    from_address: str
    subject: str


@runtime_checkable
class EmailProvider(Protocol):
    async def send_email(self, message: EmailMessage) -> EmailReceipt: ...


@runtime_checkable
class EmailInboundProvider(Protocol):
    """Optional (since 1.1): an email plugin that receives the clinic's inbound mail."""

    def parse_webhook(self, request: WebhookRequest) -> EmailInbound | None: ...

    @property
    def webhook_reply(self) -> WebhookReply: ...


SEND_EMAIL: Operation[EmailMessage, EmailReceipt] = Operation(
    "send_email",
    EmailMessage,
    EmailReceipt,
    sends=(DataCategory.EMAIL, DataCategory.APPOINTMENT),
    description="an email to a consumer or staff: confirmations, reminders, password links",
)
KIND = Kind(
    "email", "email", EmailProvider, (SEND_EMAIL,), events=(EmailInbound,), webhooks_optional=True
)
