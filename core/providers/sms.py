"""Text messages: the DTOs and the Protocol an SMS plugin implements.

Lifecycle: each message is an outbox job; ``send_message`` may run more than once for one
message (``attempt`` counts), with the same ``idempotency_key``: on a later attempt, look for
the message an earlier attempt sent (same recipient, same body, no earlier than
``first_attempt_at``) before sending again. Delivery reports and replies (STOP, START, HELP)
come back through webhooks; STOP is honoured before anything else is sent. Since plugin API
1.2 an SMS plugin may also erase a text it sent (``erase_message``, optional): when a person
is erased, the platform asks for each text sent to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
class SmsMessage:
    idempotency_key: str  # the same on every retry of one job
    attempt: int  # 1 on the first try; a later attempt may find the message already sent
    to: str  # E.164, e.g. +447911123456
    body: str
    about: tuple[DataCategory, ...]  # what the body tells about the person, e.g. APPOINTMENT
    status_callback_url: str | None = None
    first_attempt_at: datetime | None = None  # when the job first ran: retries look no earlier

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return (DataCategory.PHONE, *(c for c in self.about if c is not DataCategory.PHONE))


@dataclass(frozen=True)
class SmsReceipt:
    message_id: ProviderId  # the id the provider's delivery reports name the message by
    status: str  # the provider's word, e.g. queued
    # On a later attempt: True if an earlier attempt's message was found (it had been sent),
    # False if none was and this one is new, None if the plugin cannot tell.
    recovered: bool | None = None


@dataclass(frozen=True)
class SmsStatusUpdate:
    """A delivery report for a message the platform sent."""

    event_id: ProviderId
    message_id: str
    status: str  # queued, sent, delivered, undelivered, failed, ...
    error_code: str | None = None
    opted_out: bool = False  # the provider says the recipient has unsubscribed


@dataclass(frozen=True)
class SmsInbound:
    """A message someone sent to the clinic's number (STOP, START, HELP, ...)."""

    event_id: ProviderId
    from_number: str  # E.164
    body: str


@dataclass(frozen=True)
class MessageErasure:
    """Erase one text the provider sent: its record, number and words (since 1.2)."""

    message_id: str  # the SmsReceipt.message_id the provider gave when it sent the text
    idempotency_key: str  # the same on every retry of one job

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return ()  # nothing is sent but the provider's own id


@runtime_checkable
class SmsProvider(Protocol):
    async def send_message(self, message: SmsMessage) -> SmsReceipt:
        """Send; raise PermanentFailure(code=PermanentFailure.OPTED_OUT) for an opted-out number."""
        ...

    def parse_webhook(self, request: WebhookRequest) -> SmsStatusUpdate | SmsInbound | None: ...

    @property
    def webhook_reply(self) -> WebhookReply: ...


@runtime_checkable
class SmsErasingProvider(Protocol):
    """Optional (since 1.2): an SMS plugin that can erase the texts it sent."""

    async def erase_message(self, request: MessageErasure) -> None:
        """Erase the text; erasing one already gone succeeds."""
        ...


SEND_MESSAGE: Operation[SmsMessage, SmsReceipt] = Operation(
    "send_message",
    SmsMessage,
    SmsReceipt,
    sends=(DataCategory.PHONE, DataCategory.APPOINTMENT),
    description="a text to a consumer: confirmations, reminders, cancellations, HELP",
)
ERASE_MESSAGE: Operation[MessageErasure, None] = Operation(
    "erase_message",
    MessageErasure,
    None,
    sends=(),
    description="a text sent to a person who is erased, gone from the provider's records",
    optional=True,
    erases=(DataCategory.PHONE, DataCategory.APPOINTMENT),
)
KIND = Kind(
    "sms",
    "text messages",
    SmsProvider,
    (SEND_MESSAGE, ERASE_MESSAGE),
    events=(SmsStatusUpdate, SmsInbound),
)
