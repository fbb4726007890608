"""Legal holds: records a claim, an investigation or a regulator needs are kept while the hold
lasts, whatever the retention periods say (UK GDPR Art. 17(3)(e)). Retention and erasure ask
here first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.accounts import consumers
from praxis.core.accounts.models import User
from praxis.core.errors import InvalidInput, NotFound
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
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


@dataclass(frozen=True)
class HoldShown:
    """A hold in force, as staff see it: whose records (a username, or None: everyone)."""

    hold: LegalHold
    username: str | None


async def shown(db: AsyncSession) -> list[HoldShown]:
    found = await in_force(db)
    ids = {h.subject_id for h in found if h.subject_id is not None}
    names: dict[uuid.UUID, str] = {}
    if ids:
        rows = await db.execute(select(User.id, User.username).where(User.id.in_(ids)))
        names = {row.id: row.username for row in rows}
    return [HoldShown(h, names.get(h.subject_id) if h.subject_id else None) for h in found]


def _recorded(operation: str, subject_id: uuid.UUID | None, actor: uuid.UUID) -> Entry:
    """Who placed or lifted a hold, and when; the reason stays on the hold, off the ledger."""
    return Entry(
        kind=EventKind.RETENTION,
        status=Status.RECORDED,
        recipient="the clinic",
        recipient_kind=RecipientKind.OTHER,
        operation=operation,
        categories=[],
        purpose="keep records a legal obligation or claim needs",
        legal_basis="legal obligation; legal claims (UK GDPR Art. 17(3)(b), (e))",
        subject_id=subject_id,
        actor_id=actor,
    )


async def place_by_staff(
    db: AsyncSession, *, username: str, reason: str, actor: uuid.UUID, now: datetime
) -> LegalHold:
    """A hold on one consumer (by username) or, with none, the clinic; in the ledger."""
    subject_id = None
    if username.strip():
        subject_id = await consumers.consumer_id(db, username)
        if subject_id is None:
            raise InvalidInput({"consumer": "There is no consumer with that username here."})
    hold = await place(db, reason=reason, subject_id=subject_id, placed_by=actor, now=now)
    await ledger.append(db, _recorded("legal_hold_placed", subject_id, actor), now=now)
    return hold


async def lift_by_staff(
    db: AsyncSession, hold_id: uuid.UUID, *, actor: uuid.UUID, now: datetime
) -> LegalHold:
    hold = await lift(db, hold_id, lifted_by=actor, now=now)
    await ledger.append(db, _recorded("legal_hold_lifted", hold.subject_id, actor), now=now)
    return hold
