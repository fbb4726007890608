"""Inbound webhooks seen, by (plugin, event id): the unique key that makes replays harmless."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, utcnow
from praxis.core.tenancy import TenantScoped


class WebhookEvent(TenantScoped, Base):
    __tablename__ = "webhook_events"

    plugin: Mapped[str] = mapped_column(String(48), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(48))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
