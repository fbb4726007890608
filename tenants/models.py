"""Platform-level tables: tenants and their domains (no tenant filter applies here)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, utcnow


class Tenant(Base):
    """A clinic or sole practitioner: the controller of its consumers' clinical data."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16))
    branding: Mapped[dict[str, Any]]
    controller: Mapped[dict[str, Any]]
    booking: Mapped[dict[str, Any]]
    retention: Mapped[dict[str, Any]]
    providers: Mapped[dict[str, Any]]
    # active | suspended (portal closed for now, nothing deleted) | purged
    status: Mapped[str] = mapped_column(String(16), default="active")
    leaves_on: Mapped[date | None] = mapped_column(default=None)  # sign-in closes then (P29)
    # Visits to the portal are counted, for visitors who accept analytics cookies (P08).
    count_visits: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The clinic admin opts in to the platform's public directory, under this town.
    listed: Mapped[bool] = mapped_column(default=False, server_default=false())
    town: Mapped[str] = mapped_column(String(100), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TenantDomain(Base):
    """A custom domain; it serves the tenant's portal only once an operator verified it."""

    __tablename__ = "tenant_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    # The random text the domain must serve at /.well-known/praxis-domain before it is used.
    proof: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
