"""A person's own consents, as "Privacy and consents" shows and changes them: one step each,
each change a record (P35). Staff acting on a written request use the same path."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.models import Role, User
from praxis.core.consents import services as consents
from praxis.core.consents.kinds import BY_KEY, MARKETING, ConsentKind, Method
from praxis.core.consents.services import ConsentState, Whose
from praxis.core.errors import NotFound


@dataclass(frozen=True)
class Shown:
    """One line of the page: the consent, its state, and for whom (a Professional's name)."""

    state: ConsentState
    about: str = ""

    @property
    def kind(self) -> ConsentKind:
        return self.state.kind


def whose(kind: ConsentKind, person: User, scope_id: uuid.UUID | None = None) -> Whose:
    """For reading: the account, with the number or address the channel uses: a STOP from
    that number and a choice made in the portal count alike, the later one in force. (A
    choice made in the portal is recorded against the account alone: two people sharing a
    number each decide for themselves, while a STOP from it stops what goes to it.)"""
    address = {"sms": person.phone, "email": person.email}.get(kind.channel) or None
    return Whose(person.id, address, scope_id)


async def shown(
    db: AsyncSession, person: User, professionals: Mapping[uuid.UUID, str]
) -> list[Shown]:
    """Every consent the person has, intake sharing once per Professional answered for."""
    found = []
    for kind in BY_KEY.values():
        if kind.per_professional:
            for professional_id, name in professionals.items():
                state = await consents.state(db, kind, whose(kind, person, professional_id))
                found.append(Shown(state, name))
        else:
            found.append(Shown(await consents.state(db, kind, whose(kind, person))))
    return found


async def change(
    db: AsyncSession,
    person: User,
    key: str,
    *,
    give: bool,
    clinic: str,
    professionals: Mapping[uuid.UUID, str],
    scope: str = "",
    actor: User | None = None,
    method: Method = Method.PORTAL,
    notice_version: int | None = None,
) -> ConsentKind:
    """Give or withdraw one consent, effective for anything not yet sent; an unknown consent
    or a Professional the person never answered for is not found (it reveals nothing)."""
    kind = BY_KEY.get(key)
    if kind is None:
        raise NotFound("We could not find that consent.")
    scope_id = None
    if kind.per_professional:
        try:
            scope_id = uuid.UUID(scope)
        except ValueError:
            raise NotFound("We could not find that consent.") from None
        if scope_id not in professionals:
            raise NotFound("We could not find that consent.")
    await consents.record(
        db,
        kind,
        Whose(person.id, scope_id=scope_id),
        given=give,
        method=method,
        clinic=professionals[scope_id] if scope_id else clinic,
        actor_id=(actor or person).id,
        notice_version=notice_version,
        recipient_id=scope_id,
    )
    return kind


async def object_to_marketing(
    db: AsyncSession,
    person: User,
    *,
    clinic: str,
    actor: User | None = None,
    notice_version: int | None = None,
) -> None:
    """An objection to direct marketing stops it on every channel at once (UK GDPR Art. 21(2)):
    each marketing consent withdrawn in one transaction."""
    for kind in MARKETING.values():
        await consents.record(
            db,
            kind,
            Whose(person.id),
            given=False,
            method=Method.PORTAL,
            clinic=clinic,
            actor_id=(actor or person).id,
            notice_version=notice_version,
            note="objected to direct marketing",
        )


async def consumer(db: AsyncSession, tenant_id: uuid.UUID, person_id: uuid.UUID) -> User:
    """A consumer of this clinic whose consents staff change on their written request."""
    person = await db.get(User, (tenant_id, person_id))
    if person is None or person.role != Role.CONSUMER.value:
        raise NotFound("We could not find that consumer.")
    return person
