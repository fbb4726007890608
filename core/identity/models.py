"""The clinic's identity provider: one row per clinic, its client secret sealed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, utcnow
from praxis.core.tenancy import TenantScoped


class IdentityProvider(TenantScoped, Base):
    __tablename__ = "identity_providers"

    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret: Mapped[str] = mapped_column(Text)  # sealed, bound to the clinic
    email_domain: Mapped[str] = mapped_column(String(253))
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
