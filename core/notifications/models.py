"""What was sent to whom (ids only), and the keywords texted in (STOP is a consent record)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped


class SentMessage(TenantScoped, Identified, Base):
    """One message the platform sent: channel, template, provider id, delivery status."""

    __tablename__ = "sent_messages"
    __table_args__ = (
        Index(None, "tenant_id", "plugin", "provider_ref"),
        Index(None, "tenant_id", "appointment_id"),
        Index(None, "tenant_id", "recipient_id"),  # a person's messages: export, erasure
    )

    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    template: Mapped[str] = mapped_column(String(32))
    plugin: Mapped[str] = mapped_column(String(48))
    provider_ref: Mapped[str] = mapped_column(String(200))
    recipient_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # the consumer
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    job_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(24))
    error_code: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboundSms(TenantScoped, Identified, Base):
    """A keyword someone texted to the clinic's number (the text itself is not kept)."""

    __tablename__ = "inbound_sms"

    phone: Mapped[str] = mapped_column(String(20))
    keyword: Mapped[str] = mapped_column(String(16))  # stop | start | help | other
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
