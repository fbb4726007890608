"""Inbound webhooks seen, by (plugin, event id): the unique key that makes replays harmless.

The provider's plugin verifies the signature (constant-time, with a timestamp tolerance where
the provider sends one) and reads the event before anything is parsed or stored. The event
is then stored by (plugin, event id) under a unique key in the same transaction as its
effect, so a replay, a duplicate or ten at once change things exactly once. A rejected
webhook is answered 400 and touches nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, TenantScoped, utcnow


class WebhookEvent(TenantScoped, Base):
    __tablename__ = "webhook_events"

    plugin: Mapped[str] = mapped_column(String(48), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(48))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
