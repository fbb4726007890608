"""Staff invitations not accepted yet, as a clinic's admins manage them on /admin/staff.

*Send again* makes a new invitation with the same roles and a new link, and deletes the old
one, so its link (and any retry of its email) stops working at once; *Cancel* deletes it.
Nothing is made for an invitee before they accept (they create their own account through the
link), so ending an invitation leaves no account behind; one inviting a removed colleague
back leaves their account as it was, removed. The daily retention run deletes invitations
past their expiry (``purge_expired``). Each admin's action is in the ledger (``staff_log``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts import staff_log
from praxis.core.accounts.invitations import ROLES, StaffInvitation, queue, returning_account
from praxis.core.accounts.models import STAFF_ROLES, User
from praxis.core.errors import InvalidInput, NotFound
from praxis.tenants.directory import TenantInfo

GONE = "We could not find that invitation: it was accepted or cancelled meanwhile."


@dataclass(frozen=True)
class Waiting:
    """One invitation as the staff page lists it."""

    id: uuid.UUID
    full_name: str
    email: str
    roles: str  # in words: "front desk"; invited back, every role their account holds
    sent_at: datetime
    expires_at: datetime
    expired: bool
    back: uuid.UUID | None  # the removed account it invites back


async def waiting(db: AsyncSession, *, now: datetime) -> list[Waiting]:
    """The clinic's invitations not accepted yet, newest first; expired ones until the daily
    clean-up deletes them (an admin may still send one again)."""
    expired = (StaffInvitation.expires_at <= now).label("expired")
    rows = list(
        await db.execute(
            select(StaffInvitation, expired)
            .where(StaffInvitation.used_at.is_(None))
            .order_by(StaffInvitation.created_at.desc(), StaffInvitation.id)
        )
    )
    back = {row.user_id for row, _ in rows if row.user_id is not None}
    accounts = {u.id: u for u in await db.scalars(select(User).where(User.id.in_(back)))}
    return [
        Waiting(
            id=row.id,
            full_name=row.full_name,
            email=row.email,
            roles=_roles(accounts.get(row.user_id) if row.user_id else None, row.role),
            sent_at=row.created_at,
            expires_at=row.expires_at,
            expired=bool(past),
            back=row.user_id,
        )
        for row, past in rows
    ]


def _roles(account: User | None, role: str) -> str:
    if account is None:
        return ROLES.get(role, role)
    return ", ".join(ROLES[r.value] for r in STAFF_ROLES if account.has_role(r))


async def _open(db: AsyncSession, invitation_id: uuid.UUID) -> StaffInvitation:
    """An invitation of this clinic not accepted yet, locked; else NotFound (another clinic's
    id too)."""
    query = select(StaffInvitation).where(
        StaffInvitation.id == invitation_id, StaffInvitation.used_at.is_(None)
    )
    row = await db.scalar(query.with_for_update())
    if row is None:
        raise NotFound(GONE)
    return row


async def send_again(
    db: AsyncSession, tenant: TenantInfo, invitation_id: uuid.UUID, *, by: User, now: datetime
) -> StaffInvitation:
    """A new invitation with the same roles replaces this one (the caller commits)."""
    old = await _open(db, invitation_id)
    try:
        await returning_account(db, old)
    except InvalidInput:
        raise NotFound(GONE) from None  # the account invited back is gone or already back
    person = old.user_id
    new = queue(
        db,
        tenant,
        email=old.email,
        full_name=old.full_name,
        role=old.role,
        invited_by=f"user:{by.id}",
        now=now,
        user_id=person,
    )
    await db.delete(old)
    await staff_log.record(
        db,
        staff_log.SENT_AGAIN,
        by=by.id,
        now=now,
        person=person,
        invitation=new.id,
        reason=f"replaces invitation {invitation_id}",
    )
    return new


async def cancel(db: AsyncSession, invitation_id: uuid.UUID, *, by: User, now: datetime) -> str:
    """Delete the invitation, so its link stops working; returns the invitee's name (the
    caller commits)."""
    row = await _open(db, invitation_id)
    name, person = row.full_name, row.user_id
    await db.delete(row)
    await staff_log.record(
        db, staff_log.CANCELLED, by=by.id, now=now, person=person, invitation=invitation_id
    )
    return name


async def withdraw_for(db: AsyncSession, person_id: uuid.UUID) -> None:
    """Delete any invitation waiting to bring this account back (a new one replaces it)."""
    await db.execute(
        delete(StaffInvitation).where(
            StaffInvitation.user_id == person_id, StaffInvitation.used_at.is_(None)
        )
    )


async def purge_expired(db: AsyncSession, now: datetime, *, dry_run: bool = False) -> int:
    """Invitations past their expiry and never accepted go, with the invitee's name and
    address (the caller commits). Returns how many."""
    stale = (StaffInvitation.used_at.is_(None), StaffInvitation.expires_at <= now)
    found = int(await db.scalar(select(func.count()).where(*stale)) or 0)
    if found and not dry_run:
        await db.execute(delete(StaffInvitation).where(*stale))
    return found
