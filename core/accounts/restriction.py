"""Restriction of processing (UK GDPR Art. 18, P34): while a consumer's record is restricted it
is stored and nothing new is done with it: no bookings, messages or provider calls, and no
marketing. The record lives here, low in the layers, so every domain can ask before it acts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, utcnow
from praxis.core.tenancy import TenantScoped

RESTRICTED = (
    "Your data is restricted at your request: nothing new is done with it. Lift the "
    "restriction under Account, Restrict processing, to book again."
)


class ProcessingRestriction(TenantScoped, Base):
    """One row while a consumer's record is restricted; lifting deletes it (the ledger keeps
    the history)."""

    __tablename__ = "processing_restrictions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    restricted_at: Mapped[datetime] = mapped_column(default=utcnow)
    restricted_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


async def is_restricted(db: AsyncSession, user_id: uuid.UUID | None) -> bool:
    if user_id is None:
        return False
    query = select(ProcessingRestriction.user_id).where(ProcessingRestriction.user_id == user_id)
    return await db.scalar(query) is not None


async def restricted_ids(db: AsyncSession) -> set[uuid.UUID]:
    """Every restricted consumer of the session's clinic: audiences leave them out."""
    return set((await db.scalars(select(ProcessingRestriction.user_id))).all())
