"""Who received a person's data: their own view, and the disclosures staff enter by hand.

A provider call is two ledger events (attempted, then its outcome); a person sees one line
per disclosure with what became of it. Staff record what left outside the software (a
regulator's request, the sale of the business) with its reason, into the same ledger (P21).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.accounts.fields import Line
from praxis.core.accounts.models import Role, User
from praxis.core.errors import InvalidInput
from praxis.core.ledger import Entry, EventKind, LedgerEvent, RecipientKind, Status
from praxis.core.manifest import DataCategory

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
    outcome: Literal["delivered", "failed", "recorded", "sending"]
    reason: str


def _outcome(event: LedgerEvent, closed: dict[int, LedgerEvent]) -> str:
    if event.status == Status.RECORDED.value:
        return "recorded"
    closing = closed.get(event.seq)
    if closing is None:
        return "sending"  # the attempt is there, its outcome not (yet): shown, never hidden
    return "delivered" if closing.status == Status.SUCCEEDED.value else "failed"


async def history(
    db: AsyncSession, subject_id: uuid.UUID, *, limit: int = 500, since: datetime | None = None
) -> list[Disclosure]:
    """Disclosures of and accesses to one person's data, newest first.

    With ``since`` (when the person's account was made), disclosures staff recorded about
    every consumer at once (the sale of the business) are theirs too: their data went.
    """
    events = await ledger.subject_events(
        db,
        subject_id,
        kinds=(EventKind.DISCLOSURE, EventKind.ACCESS, EventKind.EXPORT),
        limit=limit,
    )
    if since is not None:
        everyone = await _about_everyone(db, since, limit)
        events = sorted([*events, *everyone], key=lambda e: e.seq, reverse=True)[:limit]
    closed = {e.attempt_seq: e for e in events if e.attempt_seq is not None}
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


class ManualDisclosure(BaseModel):
    """What staff enter for a disclosure made outside the software."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    recipient: Line = Field(min_length=2, max_length=200)
    recipient_kind: Literal["regulator", "buyer", "other"]
    consumer: str = Field("", max_length=32)  # a username; empty: every consumer
    categories: list[DataCategory] = Field(min_length=1)
    purpose: Line = Field(min_length=3, max_length=300)
    legal_basis: Line = Field(min_length=3, max_length=200)
    reason: Line = Field(min_length=3, max_length=500)
    disclosed_on: date

    @field_validator("disclosed_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > datetime.now(UTC).date():
            raise ValueError("The date cannot be in the future.")
        return value


async def record_manual(db: AsyncSession, form: ManualDisclosure, *, actor: User) -> int:
    """Append a staff-entered disclosure; returns its ledger number."""
    subject_id = None
    if form.consumer:
        subject_id = await db.scalar(
            select(User.id).where(
                User.username == form.consumer.lower(), User.role == Role.CONSUMER.value
            )
        )
        if subject_id is None:
            raise InvalidInput({"consumer": "There is no consumer with that username here."})
    appended = await ledger.append(
        db,
        Entry(
            kind=EventKind.DISCLOSURE,
            status=Status.RECORDED,
            recipient=form.recipient,
            recipient_kind=RecipientKind(form.recipient_kind),
            operation=MANUAL,
            categories=[c.value for c in form.categories],
            purpose=form.purpose,
            legal_basis=form.legal_basis,
            subject_id=subject_id,
            actor_id=actor.id,
            reason=f"{form.reason} (disclosed on {form.disclosed_on.isoformat()})",
        ),
    )
    return appended.seq
