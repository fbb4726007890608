"""Giving and withdrawing consent, and reading the state in force.

Records are only ever added; the latest one for a person (or the number or address it came
from), a purpose, a channel and a scope is the state. Each change is in the ledger.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.consents.kinds import LEGAL_BASIS, ConsentKind, Method
from praxis.core.consents.models import ConsentRecord
from praxis.core.db import utcnow
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status


@dataclass(frozen=True)
class Whose:
    """Whom a consent is about: an account, the number or address it came from, or both.
    Records carry an address only when the choice came from it (a STOP, an email reply)."""

    subject_id: uuid.UUID | None = None
    address: str | None = None
    scope_id: uuid.UUID | None = None  # the Professional, for intake sharing


@dataclass(frozen=True)
class ConsentState:
    kind: ConsentKind
    given: bool
    since: datetime | None  # None: nothing recorded, the default applies
    method: str | None = None
    actor_id: uuid.UUID | None = None
    scope_id: uuid.UUID | None = None


def _matching(kind: ConsentKind, whose: Whose) -> ColumnElement[bool]:
    people = []
    if whose.subject_id is not None:
        people.append(ConsentRecord.subject_id == whose.subject_id)
    if whose.address:
        people.append(ConsentRecord.address == whose.address)
    if not people:
        raise ValueError("a consent is about an account, a number or an address")
    scope = (
        ConsentRecord.scope_id == whose.scope_id
        if whose.scope_id is not None
        else ConsentRecord.scope_id.is_(None)
    )
    return and_(
        ConsentRecord.purpose == kind.purpose,
        ConsentRecord.channel == kind.channel,
        scope,
        or_(*people),
    )


async def latest(db: AsyncSession, kind: ConsentKind, whose: Whose) -> ConsentRecord | None:
    query = (
        select(ConsentRecord)
        .where(_matching(kind, whose))
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )
    found: ConsentRecord | None = await db.scalar(query)
    return found


async def state(db: AsyncSession, kind: ConsentKind, whose: Whose) -> ConsentState:
    row = await latest(db, kind, whose)
    if row is None:
        return ConsentState(kind, kind.default, None, scope_id=whose.scope_id)
    return ConsentState(kind, row.given, row.recorded_at, row.method, row.actor_id, row.scope_id)


async def allows(db: AsyncSession, kind: ConsentKind, whose: Whose) -> bool:
    """Whether something may be done on this consent now: asked again by every sender."""
    return (await state(db, kind, whose)).given


async def record(
    db: AsyncSession,
    kind: ConsentKind,
    whose: Whose,
    *,
    given: bool,
    method: Method,
    clinic: str,
    actor_id: uuid.UUID | None = None,
    notice_version: int | None = None,
    note: str = "",
    recipient_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> bool:
    """Add a record if it changes the state in force (saying STOP twice changes nothing);
    returns whether it did. ``clinic`` names who holds the consent, for the ledger."""
    now = now or utcnow()
    previous = await latest(db, kind, whose)
    if previous is not None and previous.given == given:
        return False
    db.add(
        ConsentRecord(
            id=uuid.uuid4(),
            subject_id=whose.subject_id,
            address=whose.address,
            purpose=kind.purpose,
            channel=kind.channel,
            scope_id=whose.scope_id,
            given=given,
            method=method.value,
            actor_id=actor_id,
            notice_version=notice_version,
            note=note[:200],
            recorded_at=now,
        )
    )
    await ledger.append(
        db,
        Entry(
            kind=EventKind.CONSENT,
            status=Status.RECORDED,
            recipient=clinic,
            recipient_kind=RecipientKind.PROFESSIONAL if recipient_id else RecipientKind.OTHER,
            recipient_id=recipient_id,
            operation=kind.given_operation if given else kind.withdrawn_operation,
            categories=[kind.category.value] if kind.category else [],
            purpose=kind.ledger_purpose,
            legal_basis=LEGAL_BASIS[kind.purpose],
            subject_id=whose.subject_id,
            actor_id=actor_id,
            reason=note or ("given" if given else "withdrawn"),
        ),
        now=now,
    )
    return True


async def given_by(
    db: AsyncSession, kind: ConsentKind, people: list[tuple[uuid.UUID, str | None]]
) -> list[uuid.UUID]:
    """Of these (account, address) pairs, those whose latest record gives this consent."""
    rows = await db.execute(
        select(
            ConsentRecord.subject_id,
            ConsentRecord.address,
            ConsentRecord.given,
            ConsentRecord.recorded_at,
        )
        .where(
            ConsentRecord.purpose == kind.purpose,
            ConsentRecord.channel == kind.channel,
            ConsentRecord.scope_id.is_(None),
        )
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    last_subject: dict[uuid.UUID, tuple[datetime, bool]] = {}
    last_address: dict[str, tuple[datetime, bool]] = {}
    for subject_id, address, given, at in rows:
        if subject_id is not None:
            last_subject[subject_id] = (at, given)
        if address:
            last_address[address] = (at, given)
    chosen = []
    for subject_id, address in people:
        seen = [x for x in (last_subject.get(subject_id), last_address.get(address or "")) if x]
        given = max(seen, key=lambda x: x[0])[1] if seen else kind.default
        if given:
            chosen.append(subject_id)
    return chosen
