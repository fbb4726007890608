"""The clinic's staff, as its admins manage them: who holds which roles, and removing someone.

Inviting goes through ``invitations.invite`` (the invitee chooses their own credentials).
Someone removed comes back the same way (``invite_back``): a single-use link to their address
reopens their account, with its username, roles and history, once they choose a new password
(and authenticator); nothing of the old credentials works again. Each change is in the ledger
(``staff_log``), naming the admin who made it. Two rules keep a clinic runnable: the last
active clinic admin can be neither removed nor demoted, and an admin cannot remove
themselves, nor drop their own admin role without saying they mean it. Removing someone
deactivates the account (kept: the ledger, bookings and the security log refer to it), ends
every one of its sessions at once and deletes their photo; a Professional's photo also goes
when they stop being one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts import invitations, pending_invitations, staff_log
from praxis.core.accounts.models import (
    STAFF_ROLES,
    Professional,
    ProfessionalStatus,
    Role,
    User,
    UserSession,
)
from praxis.core.accounts.photos import remove_photo
from praxis.core.db import utcnow
from praxis.core.errors import InvalidInput, NotFound
from praxis.tenants.directory import TenantInfo

ROLE_NAMES = {
    Role.CLINIC_ADMIN: "clinic admin",
    Role.PROFESSIONAL: "Professional",
    Role.FRONT_DESK: "front desk",
}
LAST_ADMIN = "The clinic must keep at least one clinic admin: make someone else one first."
NOT_YOURSELF = "You cannot remove yourself: ask another clinic admin."
OWN_ADMIN = (
    "Tick the box to confirm you are giving up your own clinic admin role; "
    "you will no longer reach these pages."
)
NO_ROLE = "Choose at least one role."
STILL_HERE = "They were not removed: there is nothing to invite them back to."
NO_ADDRESS = "Their account has no email address: invite them as a new colleague instead."


async def staff(db: AsyncSession) -> list[User]:
    """The clinic's staff, active first, by name."""
    query = (
        select(User)
        .where(User.role.in_([r.value for r in STAFF_ROLES]))
        .order_by(User.is_active.desc(), User.full_name, User.id)
    )
    return list((await db.scalars(query)).all())


async def member(db: AsyncSession, person_id: uuid.UUID, *, lock: bool = False) -> User:
    """A member of this clinic's staff; a patient's or another clinic's id is not found."""
    query = select(User).where(User.id == person_id, User.role.in_([r.value for r in STAFF_ROLES]))
    found = await db.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound("We could not find that member of staff.")
    return found


def chosen_roles(values: Iterable[str]) -> set[Role]:
    """The staff roles ticked on a form; anything else is refused on the field."""
    roles: set[Role] = set()
    for value in values:
        try:
            role = Role(value)
        except ValueError:
            raise InvalidInput({"roles": NO_ROLE}) from None
        if role not in ROLE_NAMES:
            raise InvalidInput({"roles": NO_ROLE})
        roles.add(role)
    if not roles:
        raise InvalidInput({"roles": NO_ROLE})
    return roles


async def _active_admins(db: AsyncSession) -> int:
    """How many active clinic admins; their rows locked, so two admins demoting each other at
    once cannot both pass (a clinic admin's primary role is always clinic_admin)."""
    query = select(User.id).where(User.role == Role.CLINIC_ADMIN.value, User.is_active.is_(True))
    return len(list(await db.scalars(query.with_for_update())))


async def change_roles(
    db: AsyncSession,
    person_id: uuid.UUID,
    roles: set[Role],
    *,
    by: User,
    confirm_own: bool = False,
    now: datetime | None = None,
) -> User:
    """Give someone exactly these roles (the caller commits); refused: InvalidInput."""
    person = await member(db, person_id, lock=True)
    if not person.is_active:
        raise NotFound("We could not find that member of staff.")
    losing_admin = person.has_role(Role.CLINIC_ADMIN) and Role.CLINIC_ADMIN not in roles
    if losing_admin and await _active_admins(db) <= 1:
        raise InvalidInput({"roles": LAST_ADMIN})
    if losing_admin and person.id == by.id and not confirm_own:
        raise InvalidInput({"confirm_own": OWN_ADMIN})
    had_professional = person.has_role(Role.PROFESSIONAL)
    person.give_roles(roles)
    profile = await db.scalar(select(Professional).where(Professional.user_id == person.id))
    if Role.PROFESSIONAL in roles and profile is None:
        # A Professional needs a profile: listed once an admin approves it, like an applicant's.
        db.add(
            Professional(
                user_id=person.id,
                display_name=person.full_name,
                qualifications="",
                field_of_practice="",
                status=ProfessionalStatus.PENDING.value,
            )
        )
    elif had_professional and Role.PROFESSIONAL not in roles and profile is not None:
        await _unlist(db, profile)
    words = ", ".join(ROLE_NAMES[r] for r in STAFF_ROLES if r in roles)
    await staff_log.record(
        db, staff_log.ROLES_CHANGED, by=by.id, now=now or utcnow(), person=person.id, reason=words
    )
    return person


async def remove(
    db: AsyncSession, person_id: uuid.UUID, *, by: User, now: datetime | None = None
) -> User:
    """Deactivate someone's account and end all their sessions now (the caller commits)."""
    person = await member(db, person_id, lock=True)
    if person.id == by.id:
        raise InvalidInput({"__all__": NOT_YOURSELF}, NOT_YOURSELF)
    if not person.is_active:
        return person  # removed already: nothing more to do
    if person.has_role(Role.CLINIC_ADMIN) and await _active_admins(db) <= 1:
        raise InvalidInput({"__all__": LAST_ADMIN}, LAST_ADMIN)
    person.is_active = False
    await db.execute(delete(UserSession).where(UserSession.user_id == person.id))
    profile = await db.scalar(select(Professional).where(Professional.user_id == person.id))
    if profile is not None:
        await _unlist(db, profile)
    await staff_log.record(db, staff_log.REMOVED, by=by.id, now=now or utcnow(), person=person.id)
    return person


async def invite_back(
    db: AsyncSession, tenant: TenantInfo, person_id: uuid.UUID, *, by: User, now: datetime
) -> User:
    """Email someone removed a link to reopen their account (the caller commits); a link
    sent to them before stops working."""
    person = await member(db, person_id, lock=True)
    if person.is_active:
        raise InvalidInput({"__all__": STILL_HERE}, STILL_HERE)
    if not person.email:
        raise InvalidInput({"__all__": NO_ADDRESS}, NO_ADDRESS)
    await pending_invitations.withdraw_for(db, person.id)
    row = invitations.queue(
        db,
        tenant,
        email=person.email,
        full_name=person.full_name,
        role=person.role,
        invited_by=f"user:{by.id}",
        now=now,
        user_id=person.id,
    )
    await staff_log.record(
        db, staff_log.INVITED_BACK, by=by.id, now=now, person=person.id, invitation=row.id
    )
    return person


async def _unlist(db: AsyncSession, profile: Professional) -> None:
    """Off the portal: nobody books someone who no longer practises here, and their photo,
    shown only to present them, is no longer needed."""
    await remove_photo(db, profile.id)
    if profile.status == ProfessionalStatus.APPROVED.value:
        profile.status = ProfessionalStatus.PENDING.value
        profile.decided_at = profile.decided_by = None
