"""Finding free slots, booking them and cancelling: the consumer's side of the diary.

Side effects (messages, the video room, refunds) are outbox jobs written in the same
transaction as the booking or cancellation that causes them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    Boolean,
    Date,
    bindparam,
    cast,
    delete,
    insert,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from core import ledger, outbox
from core.accounts.models import Professional, ProfessionalStatus, User
from core.accounts.professionals import approved_professional
from core.booking.confirmation import confirm
from core.booking.forms import BookingRequest
from core.booking.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    ConsultationType,
    SlotHold,
    WeeklyAvailability,
)
from core.booking.slots import DayChange, Interval, free_slots, hold_units
from core.db import table_of, utcnow
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.ledger import Entry, EventKind, RecipientKind, Status
from core.manifest import DataCategory
from core.money import money
from core.notifications.services import queue_appointment_messages
from core.payments.services import hold_until, settle_cancellation, takes_payment
from core.statements import TENANT, run
from core.video.services import queue_deletion
from tenants.directory import TenantInfo

MAX_DAYS_PER_QUERY = 31
LIVE = (AppointmentStatus.BOOKED.value, AppointmentStatus.AWAITING_PAYMENT.value)
SLOT_TAKEN = "That time is not available: it has just been booked. Please choose another time."


async def bookable_type(
    db: AsyncSession, professional_id: uuid.UUID, type_id: uuid.UUID
) -> ConsultationType:
    kind = await db.scalar(
        select(ConsultationType).where(
            ConsultationType.id == type_id,
            ConsultationType.professional_id == professional_id,
            ConsultationType.active.is_(True),
        )
    )
    if kind is None:
        raise NotFound("We could not find that consultation type.")
    return kind


_PROFESSIONALS = table_of(Professional)
_TYPES = table_of(ConsultationType)
_WEEKLY = table_of(WeeklyAvailability)
_EXCEPTIONS = table_of(AvailabilityException)
_APPOINTMENTS = table_of(Appointment)
_HOLDS = table_of(SlotHold)
_COLUMNS = tuple(column.key for column in _APPOINTMENTS.c)

# The hot path's statements, built once (core.statements): booking runs each of them.
# One round trip for the diary of a day: its weekly hours and its dated changes together.
_DIARY = union_all(
    select(
        literal(True).label("weekly"),
        _WEEKLY.c.weekday,
        cast(null(), Date).label("on_date"),
        _WEEKLY.c.starts_at,
        _WEEKLY.c.ends_at,
        cast(null(), Boolean).label("available"),
    ).where(
        _WEEKLY.c.tenant_id == TENANT, _WEEKLY.c.professional_id == bindparam("professional_id")
    ),
    select(
        literal(False),
        null(),
        _EXCEPTIONS.c.on_date,
        _EXCEPTIONS.c.starts_at,
        _EXCEPTIONS.c.ends_at,
        _EXCEPTIONS.c.available,
    ).where(
        _EXCEPTIONS.c.tenant_id == TENANT,
        _EXCEPTIONS.c.professional_id == bindparam("professional_id"),
        _EXCEPTIONS.c.on_date.between(bindparam("first_day"), bindparam("last_day")),
    ),
)
_HELD = select(_HOLDS.c.starts_at).where(
    _HOLDS.c.tenant_id == TENANT,
    _HOLDS.c.professional_id == bindparam("professional_id"),
    _HOLDS.c.starts_at >= bindparam("start"),
    _HOLDS.c.starts_at < bindparam("end"),
)
_BOOKABLE = (
    select(
        _TYPES.c.professional_id,
        _PROFESSIONALS.c.display_name,
        _TYPES.c.id,
        _TYPES.c.duration_minutes,
        _TYPES.c.price_minor,
        _TYPES.c.currency,
        _TYPES.c.mode,
    )
    .join_from(_TYPES, _PROFESSIONALS, _PROFESSIONALS.c.id == _TYPES.c.professional_id)
    .where(
        _TYPES.c.tenant_id == TENANT,
        _PROFESSIONALS.c.tenant_id == TENANT,
        _TYPES.c.id == bindparam("type_id"),
        _TYPES.c.professional_id == bindparam("professional_id"),
        _TYPES.c.active.is_(True),
        _PROFESSIONALS.c.status == ProfessionalStatus.APPROVED.value,
    )
)
_ADD_APPOINTMENT = insert(_APPOINTMENTS)
_ADD_HOLDS = insert(_HOLDS)


@dataclass(frozen=True)
class Bookable:
    """What booking needs of an approved Professional's active consultation type."""

    professional_id: uuid.UUID
    professional_name: str
    id: uuid.UUID
    duration_minutes: int
    price_minor: int
    currency: str
    mode: str


async def _diary(
    db: AsyncSession, professional_id: uuid.UUID, first_day: date, last_day: date
) -> tuple[dict[int, list[Interval]], list[DayChange]]:
    weekly: dict[int, list[Interval]] = defaultdict(list)
    changes: list[DayChange] = []
    between = {"professional_id": professional_id, "first_day": first_day, "last_day": last_day}
    for row in await run(db, _DIARY, between):
        if row.weekly:
            weekly[row.weekday].append((row.starts_at, row.ends_at))
        else:
            changes.append(DayChange(row.on_date, row.starts_at, row.ends_at, row.available))
    return weekly, changes


async def _held(
    db: AsyncSession, professional_id: uuid.UUID, start: datetime, end: datetime
) -> set[datetime]:
    rows = await run(db, _HELD, {"professional_id": professional_id, "start": start, "end": end})
    return {starts_at for (starts_at,) in rows}


async def slots(
    db: AsyncSession,
    tenant: TenantInfo,
    *,
    professional_id: uuid.UUID,
    type_id: uuid.UUID,
    first_day: date,
    last_day: date,
    now: datetime,
) -> list[datetime]:
    """Free start times (UTC) for one consultation type, days in the tenant's time zone."""
    if last_day < first_day:
        raise InvalidInput({"to": "The end date must not be before the start date."})
    if (last_day - first_day).days >= MAX_DAYS_PER_QUERY:
        raise InvalidInput({"to": f"Ask for at most {MAX_DAYS_PER_QUERY} days at a time."})
    await approved_professional(db, professional_id)
    kind = await bookable_type(db, professional_id, type_id)
    return await _free(
        db, tenant, kind.professional_id, kind.duration_minutes, first_day, last_day, now=now
    )


async def _free(
    db: AsyncSession,
    tenant: TenantInfo,
    professional_id: uuid.UUID,
    duration_minutes: int,
    first_day: date,
    last_day: date,
    *,
    now: datetime,
    with_holds: bool = True,
) -> list[datetime]:
    weekly, changes = await _diary(db, professional_id, first_day, last_day)
    zone = tenant.zone
    window_start = datetime.combine(first_day, datetime.min.time(), zone) - timedelta(days=1)
    window_end = datetime.combine(last_day, datetime.min.time(), zone) + timedelta(days=2)
    return free_slots(
        zone=zone,
        first_day=first_day,
        last_day=last_day,
        weekly=weekly,
        changes=changes,
        duration=timedelta(minutes=duration_minutes),
        held=await _held(db, professional_id, window_start, window_end) if with_holds else set(),
        earliest=now + timedelta(hours=tenant.booking.minimum_notice_hours),
        latest=now + timedelta(days=tenant.booking.horizon_days),
    )


async def book(
    db: AsyncSession, tenant: TenantInfo, consumer: User, request: BookingRequest, *, now: datetime
) -> Appointment:
    """Book a free slot. The slot-hold key settles any race: one booking wins, others 409.

    In the same transaction: the disclosure to the Professional in the ledger, and either
    the confirmation's jobs (free) or a hold until the consumer has paid.
    """
    kind = await _bookable(db, request.professional_id, request.consultation_type_id)
    day = request.starts_at.astimezone(tenant.zone).date()
    # The diary's hours only: a time someone holds already fails on the slot-hold key below.
    free = await _free(
        db, tenant, kind.professional_id, kind.duration_minutes, day, day, now=now, with_holds=False
    )
    if request.starts_at not in free:
        raise Conflict("That time is not available. Please choose one of the times shown.")
    start = request.starts_at.astimezone(UTC)
    end = start + timedelta(minutes=kind.duration_minutes)
    paying = takes_payment(tenant, kind.price_minor)
    appointment = Appointment(
        tenant_id=tenant.id,
        id=uuid.uuid4(),
        professional_id=kind.professional_id,
        consumer_id=consumer.id,
        consultation_type_id=kind.id,
        starts_at=start,
        ends_at=end,
        status=AppointmentStatus.AWAITING_PAYMENT.value,
        mode=kind.mode,
        price_minor=kind.price_minor,
        currency=kind.currency,
        created_at=now,
        hold_expires_at=hold_until(tenant, now) if paying else None,
    )
    jobs = [] if paying else confirm(tenant, appointment, now=now, paid=False)
    holds = [
        {
            "professional_id": kind.professional_id,
            "starts_at": unit,
            "appointment_id": appointment.id,
        }
        for unit in hold_units(start, end)
    ]
    try:  # rows, not unit-of-work objects: this is the hottest write there is
        await run(db, _ADD_APPOINTMENT, {c: getattr(appointment, c) for c in _COLUMNS})
        await run(db, _ADD_HOLDS, holds)
    except IntegrityError:
        await db.rollback()  # nothing else was written yet
        raise Conflict(SLOT_TAKEN) from None
    await outbox.add_jobs(db, jobs)
    await ledger.append(db, _engaged(kind, consumer), now=now)
    await db.commit()
    return appointment


async def _bookable(db: AsyncSession, professional_id: uuid.UUID, type_id: uuid.UUID) -> Bookable:
    """The approved Professional and their active consultation type, in one query."""
    ids = {"professional_id": professional_id, "type_id": type_id}
    found = (await run(db, _BOOKABLE, ids)).first()
    if found is None:
        await approved_professional(db, professional_id)  # says which one is missing
        raise NotFound("We could not find that consultation type.")
    return Bookable(*found)


def _engaged(kind: Bookable, consumer: User) -> Entry:
    """Booking shows the consumer's name and booking to the Professional they chose (P19)."""
    return Entry(
        kind=EventKind.DISCLOSURE,
        status=Status.RECORDED,
        recipient=kind.professional_name,
        recipient_kind=RecipientKind.PROFESSIONAL,
        recipient_id=kind.professional_id,
        operation="booking",
        categories=[DataCategory.NAME.value, DataCategory.APPOINTMENT.value],
        purpose="arrange and provide the booked consultation",
        legal_basis="contract",
        subject_id=consumer.id,
        actor_id=consumer.id,
    )


async def consumer_appointments(db: AsyncSession, consumer_id: uuid.UUID) -> list[Appointment]:
    query = (
        select(Appointment)
        .options(joinedload(Appointment.professional), joinedload(Appointment.consultation_type))
        .where(Appointment.consumer_id == consumer_id)
        .order_by(Appointment.starts_at.desc(), Appointment.id)
    )
    return list((await db.scalars(query)).all())


async def consumer_appointment(
    db: AsyncSession, consumer_id: uuid.UUID, appointment_id: uuid.UUID
) -> Appointment:
    found = await db.scalar(
        select(Appointment)
        .options(joinedload(Appointment.professional), joinedload(Appointment.consultation_type))
        .where(Appointment.id == appointment_id, Appointment.consumer_id == consumer_id)
    )
    if found is None:
        raise NotFound("We could not find that appointment.")
    return found


def cancellable_until(tenant: TenantInfo, appointment: Appointment) -> datetime:
    return appointment.starts_at - timedelta(hours=tenant.booking.cancellation_window_hours)


async def cancel_by_consumer(
    db: AsyncSession,
    tenant: TenantInfo,
    consumer: User,
    appointment_id: uuid.UUID,
    *,
    now: datetime,
) -> Appointment:
    """Cancel within the tenant's window; the freed time becomes bookable again."""
    appointment = await consumer_appointment(db, consumer.id, appointment_id)
    if appointment.status not in LIVE:
        raise Conflict("This appointment is already cancelled.")
    if now > cancellable_until(tenant, appointment):
        hours = tenant.booking.cancellation_window_hours
        raise NotAllowed(
            f"Appointments can be cancelled online up to {hours} hours before they start. "
            f"Please contact {tenant.name} to cancel this one."
        )
    was_confirmed = appointment.status == AppointmentStatus.BOOKED.value
    appointment.status = AppointmentStatus.CANCELLED.value
    appointment.cancelled_at = now
    appointment.cancelled_by = consumer.id
    await db.execute(delete(SlotHold).where(SlotHold.appointment_id == appointment.id))
    refunded = await settle_cancellation(db, tenant, appointment, now=now, by_clinic=False)
    queue_deletion(db, tenant, appointment)
    if was_confirmed:
        refund = f"{money(refunded, appointment.currency)} will be refunded." if refunded else ""
        queue_appointment_messages(db, tenant, appointment.id, "cancelled", refund=refund)
    await db.commit()
    return appointment


async def professional_appointments(
    db: AsyncSession, professional: Professional, *, since: datetime
) -> list[Appointment]:
    query = (
        select(Appointment)
        .options(joinedload(Appointment.consumer), joinedload(Appointment.consultation_type))
        .where(Appointment.professional_id == professional.id, Appointment.ends_at >= since)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return list((await db.scalars(query)).all())


async def clinic_appointments(db: AsyncSession, *, since: datetime) -> list[Appointment]:
    """Every appointment of the tenant from ``since``: the clinic admin's list and export."""
    query = (
        select(Appointment)
        .options(
            joinedload(Appointment.professional),
            joinedload(Appointment.consumer),
            joinedload(Appointment.consultation_type),
        )
        .where(Appointment.ends_at >= since)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return list((await db.scalars(query)).all())


def today_in(tenant: TenantInfo) -> date:
    return utcnow().astimezone(tenant.zone).date()


async def professional_appointment(
    db: AsyncSession, professional: Professional, appointment_id: uuid.UUID
) -> Appointment:
    found = await db.scalar(
        select(Appointment)
        .options(joinedload(Appointment.consumer), joinedload(Appointment.consultation_type))
        .where(Appointment.id == appointment_id, Appointment.professional_id == professional.id)
    )
    if found is None:
        raise NotFound("We could not find that appointment.")
    return found
