"""What follows a confirmed booking (free, or paid): messages and the video room, as outbox
jobs in the same transaction as the confirmation itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.booking.models import Appointment, AppointmentStatus, SlotHold
from core.booking.slots import hold_units
from core.notifications.services import queue_appointment_messages
from core.video.services import queue_meeting
from tenants.directory import TenantInfo


def confirm(
    db: AsyncSession, tenant: TenantInfo, appointment: Appointment, *, now: datetime, paid: bool
) -> None:
    appointment.status = AppointmentStatus.BOOKED.value
    appointment.confirmed_at = now
    appointment.hold_expires_at = None
    template = "payment_confirmed" if paid else "booking_confirmed"
    queue_appointment_messages(db, tenant, appointment.id, template)
    queue_meeting(db, tenant, appointment)


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
