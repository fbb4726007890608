"""Confirming, releasing and cancelling a booking's hold on the diary, each announced (as an
outbox row written in the same transaction) for other domains to act on."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.booking.events import APPOINTMENT_CANCELLED, APPOINTMENT_CONFIRMED
from praxis.core.booking.models import Appointment, AppointmentStatus, SlotHold
from praxis.core.booking.slots import held_span, hold_units
from praxis.core.outbox import announce, stage
from praxis.tenants.directory import TenantInfo

# How often each Professional's diary changed in this process: booked, moved, cancelled or
# released here. Pages that keep free times for a moment (the free-times page) key them by
# it, so this process never shows a time it has just taken; other processes' changes show
# within the page's few seconds, and booking itself always checks the diary live.
_DIARY_CHANGES: dict[uuid.UUID, int] = {}


def diary_changed(professional_id: uuid.UUID) -> None:
    _DIARY_CHANGES[professional_id] = _DIARY_CHANGES.get(professional_id, 0) + 1


def diary_version(professional_id: uuid.UUID) -> int:
    return _DIARY_CHANGES.get(professional_id, 0)


async def confirmation_jobs(
    db: AsyncSession,
    tenant: TenantInfo,
    appointment_id: uuid.UUID,
    mode: str,
    *,
    now: datetime,
    paid: bool,
) -> list[dict[str, Any]]:
    """Announce a confirmed booking; returns the outbox rows to write with it."""
    return await announce(
        db,
        tenant,
        APPOINTMENT_CONFIRMED,
        now=now,
        appointment_id=str(appointment_id),
        mode=mode,
        paid=paid,
    )


async def confirm(
    db: AsyncSession, tenant: TenantInfo, appointment: Appointment, *, now: datetime, paid: bool
) -> list[dict[str, Any]]:
    """Mark the appointment booked and announce it; returns its jobs for the caller to write
    in the same transaction (``outbox.add_jobs``)."""
    appointment.status = AppointmentStatus.BOOKED.value
    appointment.confirmed_at = now
    appointment.hold_expires_at = None
    return await confirmation_jobs(db, tenant, appointment.id, appointment.mode, now=now, paid=paid)


async def cancel(
    db: AsyncSession,
    tenant: TenantInfo,
    appointment: Appointment,
    *,
    now: datetime,
    by: uuid.UUID | None,
    by_clinic: bool,
    tell: bool = True,
) -> None:
    """Cancel, free the diary's time and announce it: refunds, messages and the room follow.

    ``tell=False``: no message about it (the person is being erased, their contact details
    are gone)."""
    was_confirmed = appointment.status == AppointmentStatus.BOOKED.value
    appointment.status = AppointmentStatus.CANCELLED.value
    appointment.cancelled_at = now
    appointment.cancelled_by = by
    diary_changed(appointment.professional_id)
    await db.execute(delete(SlotHold).where(SlotHold.appointment_id == appointment.id))
    jobs = await announce(
        db,
        tenant,
        APPOINTMENT_CANCELLED,
        now=now,
        appointment_id=str(appointment.id),
        mode=appointment.mode,
        by_clinic=by_clinic,
        was_confirmed=was_confirmed,
        tell=tell,
    )
    stage(db, jobs)


async def release(db: AsyncSession, appointment: Appointment, *, now: datetime) -> None:
    """An unpaid hold ends: the time goes back to the diary."""
    appointment.status = AppointmentStatus.RELEASED.value
    appointment.hold_expires_at = None
    diary_changed(appointment.professional_id)
    appointment.cancelled_at = now
    await db.execute(delete(SlotHold).where(SlotHold.appointment_id == appointment.id))


async def hold_again(db: AsyncSession, tenant: TenantInfo, appointment: Appointment) -> bool:
    """Take the diary time back, with the clinic's buffer after it as a booking holds, for a
    payment that arrived after its hold ended. False if someone else has booked it since."""
    length = appointment.ends_at - appointment.starts_at
    gap = timedelta(minutes=tenant.booking.buffer_minutes)
    try:
        async with db.begin_nested():
            db.add_all(
                SlotHold(
                    professional_id=appointment.professional_id,
                    starts_at=unit,
                    appointment_id=appointment.id,
                )
                for unit in hold_units(*held_span(appointment.starts_at, length, gap))
            )
    except IntegrityError:
        return False
    diary_changed(appointment.professional_id)
    return True
