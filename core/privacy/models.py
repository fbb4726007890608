"""The clinic's privacy notice, version by version, and who acknowledged which (P37)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped


class PrivacyNotice(TenantScoped, Identified, Base):
    """A version of the notice. The draft (at most one) has no number; publishing numbers it,
    freezes its text with the details filled in, and it is never changed again."""

    __tablename__ = "privacy_notices"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    version: Mapped[int | None] = mapped_column(default=None)  # None: the draft
    source: Mapped[str] = mapped_column(Text)  # Markdown with [[markers]], as written
    body: Mapped[str] = mapped_column(Text, default="")  # published: markers filled in
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)  # recipients and settings
    effective_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    published_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class NoticeAcknowledgement(TenantScoped, Base):
    """A consumer read a new version: which, and when."""

    __tablename__ = "privacy_notice_acknowledgements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "version"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)
