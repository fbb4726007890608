"""Disclosures made outside the software, entered by staff into the ledger with their reason
(a regulator's request, the sale of the business): P21."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.accounts import consumers
from praxis.core.accounts.fields import Line
from praxis.core.accounts.models import User
from praxis.core.errors import InvalidInput
from praxis.core.ledger import MANUAL, Entry, EventKind, RecipientKind, Status
from praxis.core.providers.manifest import DataCategory


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
        subject_id = await consumers.consumer_id(db, form.consumer)
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
