"""Restriction of processing (UK GDPR Art. 18, P34): while a consumer's record is restricted it
is stored and nothing new is done with it: no bookings, messages or provider calls, and no
marketing. The mark is on the account row itself, so the pages that already hold the account
ask at no cost, and every domain (all above accounts) can ask before it acts."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.models import User

RESTRICTED = (
    "Your data is restricted at your request: nothing new is done with it. Lift the "
    "restriction under Account, Restrict processing, to book again."
)


def restricted(user: User) -> bool:
    return user.restricted_at is not None


async def is_restricted(db: AsyncSession, user_id: uuid.UUID | None) -> bool:
    """For code holding only an id (a job): one small query."""
    if user_id is None:
        return False
    query = select(User.restricted_at).where(User.id == user_id)
    return await db.scalar(query) is not None


async def restricted_ids(db: AsyncSession) -> set[uuid.UUID]:
    """Every restricted account of the session's clinic: audiences leave them out."""
    query = select(User.id).where(User.restricted_at.is_not(None))
    return set((await db.scalars(query)).all())
