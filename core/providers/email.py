"""Email: the DTOs and the Protocol an email plugin implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from praxis.core.providers.manifest import DataCategory


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

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return (DataCategory.EMAIL, *(c for c in self.about if c is not DataCategory.EMAIL))


@dataclass(frozen=True)
class EmailReceipt:
    message_id: str


@runtime_checkable
class EmailProvider(Protocol):
    async def send_email(self, message: EmailMessage) -> EmailReceipt: ...
