"""Privacy tables: when an account closed (the retention clock, P28) and was erased (P33),
and the legal holds that pause retention (a claim, an investigation, a regulator's order)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped


class AccountClosure(TenantScoped, Base):
    """A closed account: it cannot sign in, and its data is erased once the clinic's
    ``retention.closed_account_months`` have passed (or at once, if the person asked)."""

    __tablename__ = "account_closures"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "erased_at", "closed_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by: Mapped[uuid.UUID | None] = mapped_column(default=None)  # None: the platform
    erase_requested: Mapped[bool] = mapped_column(default=False)  # asked for, held meanwhile
    erased_at: Mapped[datetime | None] = mapped_column(default=None)


class LegalHold(TenantScoped, Identified, Base):
    """While a hold is in place nothing it covers is deleted: one person, or (no subject)
    the whole clinic."""

    __tablename__ = "legal_holds"
    __table_args__ = (Index(None, "tenant_id", "lifted_at", "subject_id"),)

    subject_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # None: every record
    reason: Mapped[str] = mapped_column(String(300))
    placed_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(default=None)
    lifted_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
