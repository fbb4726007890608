"""What follows a confirmed booking (free, or paid): messages and the video room, as outbox
jobs in the same transaction as the confirmation itself."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.booking.models import Appointment, AppointmentStatus, SlotHold
from praxis.core.booking.slots import hold_units
from praxis.core.notifications.services import appointment_message_jobs
from praxis.core.video.services import meeting_jobs
from praxis.tenants.directory import TenantInfo


def confirmation_jobs(
    tenant: TenantInfo, appointment_id: uuid.UUID, mode: str, *, paid: bool
) -> list[dict[str, Any]]:
    """What a confirmed booking sets off: messages and the video room, as outbox rows."""
    template = "payment_confirmed" if paid else "booking_confirmed"
    jobs = appointment_message_jobs(tenant, appointment_id, template)
    return jobs + meeting_jobs(tenant, appointment_id, mode)


def confirm(
    tenant: TenantInfo, appointment: Appointment, *, now: datetime, paid: bool
) -> list[dict[str, Any]]:
    """Mark the appointment booked; returns its jobs for the caller to write in the same
    transaction (``outbox.add_jobs``)."""
    appointment.status = AppointmentStatus.BOOKED.value
    appointment.confirmed_at = now
    appointment.hold_expires_at = None
    return confirmation_jobs(tenant, appointment.id, appointment.mode, paid=paid)


async def release(db: AsyncSession, appointment: Appointment, *, now: datetime) -> None:
    """An unpaid hold ends: the time goes back to the diary."""
    appointment.status = AppointmentStatus.RELEASED.value
    appointment.hold_expires_at = None
    appointment.cancelled_at = now
    await db.execute(delete(SlotHold).where(SlotHold.appointment_id == appointment.id))


async def hold_again(db: AsyncSession, appointment: Appointment) -> bool:
    """Take the diary time back for a payment that arrived after its hold ended.
    False if someone else has booked the time since."""
    try:
        async with db.begin_nested():
            db.add_all(
                SlotHold(
                    professional_id=appointment.professional_id,
                    starts_at=unit,
                    appointment_id=appointment.id,
                )
                for unit in hold_units(appointment.starts_at, appointment.ends_at)
            )
    except IntegrityError:
        return False
    return True
