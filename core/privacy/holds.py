"""Legal holds: records a claim, an investigation or a regulator needs are kept while the hold
lasts, whatever the retention periods say (UK GDPR Art. 17(3)(e)). Retention and erasure ask
here first."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.errors import InvalidInput, NotFound
from praxis.core.privacy.models import LegalHold

REASON_MISSING = "Say why the records must be kept (at least 3 characters)."


async def place(
    db: AsyncSession,
    *,
    reason: str,
    subject_id: uuid.UUID | None,
    placed_by: uuid.UUID | None,
    now: datetime,
) -> LegalHold:
    """Hold one person's records (``subject_id``) or, with None, the whole clinic's."""
    reason = " ".join(reason.split())
    if not 3 <= len(reason) <= 300:
        raise InvalidInput({"reason": REASON_MISSING})
    hold = LegalHold(
        id=uuid.uuid4(), subject_id=subject_id, reason=reason, placed_by=placed_by, placed_at=now
    )
    db.add(hold)
    await db.flush()
    return hold


async def lift(
    db: AsyncSession, hold_id: uuid.UUID, *, lifted_by: uuid.UUID | None, now: datetime
) -> LegalHold:
    hold = await db.scalar(
        select(LegalHold).where(LegalHold.id == hold_id, LegalHold.lifted_at.is_(None))
    )
    if hold is None:
        raise NotFound("We could not find that legal hold.")
    hold.lifted_at = now
    hold.lifted_by = lifted_by
    await db.flush()
    return hold


async def in_force(db: AsyncSession) -> list[LegalHold]:
    query = select(LegalHold).where(LegalHold.lifted_at.is_(None)).order_by(LegalHold.placed_at)
    return list((await db.scalars(query)).all())


async def clinic_held(db: AsyncSession) -> bool:
    """A hold on the whole clinic pauses all of its retention."""
    query = select(LegalHold.id).where(
        LegalHold.lifted_at.is_(None), LegalHold.subject_id.is_(None)
    )
    return await db.scalar(query.limit(1)) is not None


async def held_subjects(db: AsyncSession) -> set[uuid.UUID]:
    """The people whose own records are held."""
    query = select(LegalHold.subject_id).where(
        LegalHold.lifted_at.is_(None), LegalHold.subject_id.is_not(None)
    )
    return {s for s in (await db.scalars(query)).all() if s is not None}


async def is_held(db: AsyncSession, subject_id: uuid.UUID) -> bool:
    """Held personally, or through a hold on the whole clinic."""
    query = select(LegalHold.id).where(
        LegalHold.lifted_at.is_(None),
        or_(LegalHold.subject_id.is_(None), LegalHold.subject_id == subject_id),
    )
    return await db.scalar(query.limit(1)) is not None
