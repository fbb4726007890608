"""Who received a person's data: one line per disclosure, with what became of it.

A provider call is two ledger events (attempted, then its outcome); a person sees one line
per disclosure with what became of it. Disclosures staff record by hand (``MANUAL``) that
name no one concerned every consumer (the sale of the business).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.ledger.events import EventKind, LedgerEvent, Status, subject_events

MANUAL = "manual"  # the operation of every disclosure staff enter by hand
CATEGORY_WORDS = {
    "name": "your name",
    "email": "your email address",
    "phone": "your phone number",
    "address": "your address",
    "appointment": "your appointment's date and time",
    "payment": "the payment (amount, not your card)",
    "health": "health information",
}


@dataclass(frozen=True)
class Disclosure:
    """One line of "who received my data"."""

    at: datetime
    recipient: str
    recipient_kind: str
    kind: str
    categories: list[str]
    purpose: str
    legal_basis: str
    outcome: Literal["delivered", "failed", "recorded", "sending", "unknown"]
    reason: str


def _outcome(event: LedgerEvent, closed: dict[int, LedgerEvent]) -> str:
    if event.status == Status.RECORDED.value:
        return "recorded"
    closing = closed.get(event.seq)
    if closing is None:
        return "sending"  # the attempt is there, its outcome not (yet): shown, never hidden
    if closing.status == Status.UNKNOWN.value:
        return "unknown"  # the answer was lost: it may have arrived
    return "delivered" if closing.status == Status.SUCCEEDED.value else "failed"


async def history(
    db: AsyncSession, subject_id: uuid.UUID, *, limit: int = 500, since: datetime | None = None
) -> list[Disclosure]:
    """Disclosures of and accesses to one person's data, newest first.

    With ``since`` (when the person's account was made), disclosures staff recorded about
    every consumer at once (the sale of the business) are theirs too: their data went.
    """
    events = await subject_events(
        db,
        subject_id,
        kinds=(EventKind.DISCLOSURE, EventKind.ACCESS, EventKind.EXPORT),
        limit=limit,
    )
    if since is not None:
        everyone = await _about_everyone(db, since, limit)
        events = sorted([*events, *everyone], key=lambda e: e.seq, reverse=True)[:limit]
    # An attempt's latest outcome counts (a lost answer is settled by a later one).
    ordered = sorted(events, key=lambda e: e.seq)
    closed = {e.attempt_seq: e for e in ordered if e.attempt_seq is not None}
    return [
        Disclosure(
            at=e.recorded_at,
            recipient=e.recipient,
            recipient_kind=e.recipient_kind,
            kind=e.kind,
            categories=e.category_list,
            purpose=e.purpose,
            legal_basis=e.legal_basis,
            outcome=_outcome(e, closed),  # type: ignore[arg-type]
            reason=e.reason,
        )
        for e in events
        if e.attempt_seq is None  # outcomes are folded into their attempt
    ]


async def _about_everyone(db: AsyncSession, since: datetime, limit: int) -> list[LedgerEvent]:
    """Manual disclosures that named no one, i.e. concerned every consumer, from ``since``."""
    query = (
        select(LedgerEvent)
        .where(
            LedgerEvent.kind == EventKind.DISCLOSURE.value,
            LedgerEvent.operation == MANUAL,
            LedgerEvent.subject_id.is_(None),
            LedgerEvent.recorded_at >= since,
        )
        .order_by(LedgerEvent.seq.desc())
        .limit(limit)
    )
    return list((await db.scalars(query)).all())
