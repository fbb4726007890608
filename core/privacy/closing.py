"""Closing an account (P28): sign-in stops, every session ends, future bookings are cancelled,
and the retention clock starts; the data is erased when the clinic's period has passed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.accounts.models import PasswordReset, Role, User, UserSession
from praxis.core.accounts.passwords import Passwords
from praxis.core.booking.confirmation import cancel
from praxis.core.booking.models import Appointment, AppointmentStatus
from praxis.core.errors import InvalidInput, NotAllowed
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.core.privacy.models import AccountClosure
from praxis.tenants.directory import TenantInfo

WRONG_PASSWORD = "That is not your password. Enter the password you sign in with."  # noqa: S105 - a message
LIVE = (AppointmentStatus.BOOKED.value, AppointmentStatus.AWAITING_PAYMENT.value)


async def check_password(passwords: Passwords, user: User, password: str) -> None:
    """Closing or erasing needs the password again: a borrowed, signed-in browser is not enough."""
    if not password or not await asyncio.to_thread(passwords.verify, user.password_hash, password):
        raise InvalidInput({"password": WRONG_PASSWORD}, WRONG_PASSWORD)


async def closure_of(db: AsyncSession, user_id: uuid.UUID) -> AccountClosure | None:
    return await db.scalar(select(AccountClosure).where(AccountClosure.user_id == user_id))


async def cancel_future_bookings(
    db: AsyncSession, tenant: TenantInfo, user: User, *, now: datetime, tell: bool
) -> int:
    """Cancel what is still to come, as if the consumer had: refunds follow the clinic's
    policy (the payments domain decides), the room is deleted, the diary time freed."""
    query = select(Appointment).where(
        Appointment.consumer_id == user.id,
        Appointment.status.in_(LIVE),
        Appointment.starts_at > now,
    )
    future = list((await db.scalars(query)).all())
    for appointment in future:
        await cancel(db, tenant, appointment, now=now, by=user.id, by_clinic=False, tell=tell)
    return len(future)


async def end_sign_in(db: AsyncSession, user: User) -> None:
    """No session, no password reset link, no sign-in: the account cannot be used."""
    user.is_active = False
    await db.execute(delete(UserSession).where(UserSession.user_id == user.id))
    await db.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))


async def close_account(
    db: AsyncSession,
    tenant: TenantInfo,
    user: User,
    *,
    now: datetime,
    by: uuid.UUID | None,
    erase_requested: bool = False,
) -> AccountClosure:
    """Close a consumer's account (idempotent); the caller commits."""
    if user.role_enum is not Role.CONSUMER:
        raise NotAllowed("Only a consumer's own account can be closed here.")
    closure = await closure_of(db, user.id)
    if closure is None:
        closure = AccountClosure(user_id=user.id, closed_at=now, closed_by=by)
        db.add(closure)
        # Someone being erased is not messaged: their contact details are about to go.
        tell = not erase_requested
        cancelled = await cancel_future_bookings(db, tenant, user, now=now, tell=tell)
        months = tenant.retention.closed_account_months
        await ledger.append(
            db,
            Entry(
                kind=EventKind.RIGHTS_REQUEST,
                status=Status.RECORDED,
                recipient=tenant.name,
                recipient_kind=RecipientKind.OTHER,
                operation="account_closed",
                categories=[],
                purpose=f"account closed: data kept {months} months, then erased",
                legal_basis="the consumer's request",
                subject_id=user.id,
                actor_id=by,
                reason=f"{cancelled} future bookings cancelled",
            ),
            now=now,
        )
    closure.erase_requested = closure.erase_requested or erase_requested
    await end_sign_in(db, user)
    await db.flush()
    return closure


async def upcoming_bookings(db: AsyncSession, user_id: uuid.UUID, *, now: datetime) -> int:
    """How many bookings closing or erasing would cancel: the page says so first."""
    query = select(Appointment.id).where(
        Appointment.consumer_id == user_id,
        Appointment.status.in_(LIVE),
        Appointment.starts_at > now,
    )
    return len(list((await db.scalars(query)).all()))
