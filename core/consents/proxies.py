"""Parents and carers acting for another person (P26): clinic staff record the authority once
they have checked it; from then the proxy manages that person's consents, each change
recorded as made by the proxy on the person's behalf. Ending it stops it at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.accounts import consumers
from praxis.core.accounts.fields import Line
from praxis.core.accounts.models import User
from praxis.core.consents.models import ProxyAuthority
from praxis.core.db import utcnow
from praxis.core.errors import InvalidInput, NotFound
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.core.providers.common import DataCategory

RELATIONSHIPS = {
    "parent": "Parent or guardian",
    "carer": "Carer",
    "attorney": "Lasting power of attorney",
    "deputy": "Court-appointed deputy",
}
# What a proxy may see and change: the person's account and what it holds.
SHARED = [c.value for c in (DataCategory.NAME, DataCategory.EMAIL, DataCategory.PHONE)]


class AuthorityForm(BaseModel):
    """What staff enter once they have checked the authority."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    proxy: str = Field(min_length=1, max_length=32)  # the username of who will act
    person: str = Field(min_length=1, max_length=32)  # the username of whom they act for
    relationship: Literal["parent", "carer", "attorney", "deputy"]
    checked_how: Line = Field(min_length=3, max_length=200)


@dataclass(frozen=True)
class Authority:
    id: uuid.UUID
    proxy: User
    person: User
    relationship: str
    checked_how: str
    recorded_at: datetime


async def record(db: AsyncSession, form: AuthorityForm, *, staff: User) -> None:
    """Staff record a checked authority; the proxy's access to the person's data is in the
    person's ledger from then (a disclosure to the proxy)."""
    proxy_id = await consumers.consumer_id(db, form.proxy)
    person_id = await consumers.consumer_id(db, form.person)
    problems = {}
    if proxy_id is None:
        problems["proxy"] = "No consumer of this clinic has this username."
    if person_id is None:
        problems["person"] = "No consumer of this clinic has this username."
    if not problems and proxy_id == person_id:
        problems["person"] = "A person cannot act on their own behalf: name someone else."
    if problems:
        raise InvalidInput(problems)
    assert proxy_id is not None and person_id is not None
    if await _current(db, proxy_id, person_id) is not None:
        raise InvalidInput({"person": "This authority is already recorded."})
    proxy = await db.get(User, (staff.tenant_id, proxy_id))
    assert proxy is not None
    now = utcnow()
    db.add(
        ProxyAuthority(
            id=uuid.uuid4(),
            proxy_id=proxy_id,
            subject_id=person_id,
            relationship=form.relationship,
            checked_how=form.checked_how,
            recorded_by=staff.id,
            recorded_at=now,
        )
    )
    await ledger.append(
        db,
        Entry(
            kind=EventKind.DISCLOSURE,
            status=Status.RECORDED,
            recipient=f"{proxy.full_name} ({RELATIONSHIPS[form.relationship].lower()})",
            recipient_kind=RecipientKind.OTHER,
            recipient_id=proxy_id,
            operation="proxy_authority_recorded",
            categories=SHARED,
            purpose="act on the person's behalf: their account and consents",
            legal_basis="authority checked by the clinic",
            subject_id=person_id,
            actor_id=staff.id,
            reason=form.checked_how,
        ),
        now=now,
    )


async def _current(
    db: AsyncSession, proxy_id: uuid.UUID, person_id: uuid.UUID
) -> ProxyAuthority | None:
    found: ProxyAuthority | None = await db.scalar(
        select(ProxyAuthority).where(
            ProxyAuthority.proxy_id == proxy_id,
            ProxyAuthority.subject_id == person_id,
            ProxyAuthority.ended_at.is_(None),
        )
    )
    return found


async def end(db: AsyncSession, authority_id: uuid.UUID, *, staff: User) -> None:
    row = await db.get(ProxyAuthority, (staff.tenant_id, authority_id))
    if row is None or row.ended_at is not None:
        raise NotFound("We could not find that authority.")
    row.ended_at, row.ended_by = utcnow(), staff.id
    proxy = await db.get(User, (staff.tenant_id, row.proxy_id))
    await ledger.append(
        db,
        Entry(
            kind=EventKind.CONSENT,
            status=Status.RECORDED,
            recipient=proxy.full_name if proxy else "a former proxy",
            recipient_kind=RecipientKind.OTHER,
            recipient_id=row.proxy_id,
            operation="proxy_authority_ended",
            categories=SHARED,
            purpose="act on the person's behalf: their account and consents",
            legal_basis="authority checked by the clinic",
            subject_id=row.subject_id,
            actor_id=staff.id,
        ),
    )


async def current(db: AsyncSession) -> list[Authority]:
    """Every authority in force at this clinic, for staff."""
    rows = list(
        await db.scalars(
            select(ProxyAuthority)
            .where(ProxyAuthority.ended_at.is_(None))
            .order_by(ProxyAuthority.recorded_at)
        )
    )
    people = {
        u.id: u
        for u in await db.scalars(
            select(User).where(
                User.id.in_({r.proxy_id for r in rows} | {r.subject_id for r in rows})
            )
        )
    }
    return [
        Authority(
            r.id,
            people[r.proxy_id],
            people[r.subject_id],
            r.relationship,
            r.checked_how,
            r.recorded_at,
        )
        for r in rows
        if r.proxy_id in people and r.subject_id in people
    ]


async def acting_for(db: AsyncSession, proxy_id: uuid.UUID) -> list[User]:
    """Whom this person may act for now."""
    ids = select(ProxyAuthority.subject_id).where(
        ProxyAuthority.proxy_id == proxy_id, ProxyAuthority.ended_at.is_(None)
    )
    return list(await db.scalars(select(User).where(User.id.in_(ids)).order_by(User.full_name)))


async def person_for(db: AsyncSession, proxy: User, person_id: uuid.UUID) -> User:
    """The person ``proxy`` acts for, or NotFound (no authority, ended, another clinic's)."""
    if await _current(db, proxy.id, person_id) is None:
        raise NotFound("We could not find that page.")
    person = await db.get(User, (proxy.tenant_id, person_id))
    if person is None or not person.is_active:
        raise NotFound("We could not find that page.")
    return person


async def names(db: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Who acted, by name, for showing "by X on your behalf"."""
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.full_name).where(User.id.in_(ids)))
    return {i: n for i, n in rows}
