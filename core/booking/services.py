"""Finding free slots, booking them and cancelling: the consumer's side of the diary.

What follows a confirmation or a cancellation (messages, the video room, refunds) is other
domains' business: booking announces the event in the same transaction (``events.py``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from praxis.core import ledger, outbox
from praxis.core.accounts.models import Professional, User
from praxis.core.accounts.professionals import approved_professional
from praxis.core.accounts.restriction import RESTRICTED, restricted
from praxis.core.booking import rows
from praxis.core.booking.confirmation import cancel, confirm, diary_changed
from praxis.core.booking.events import APPOINTMENT_REQUESTED, APPOINTMENT_RESCHEDULED
from praxis.core.booking.forms import BookingRequest
from praxis.core.booking.models import Appointment, AppointmentStatus, ConsultationType
from praxis.core.booking.policy import changeable_until, hold_until, takes_payment
from praxis.core.booking.rows import Bookable
from praxis.core.booking.slots import free_slots, held_span, hold_units
from praxis.core.db import utcnow
from praxis.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.core.outbox import announce
from praxis.core.providers.manifest import DataCategory
from praxis.tenants.directory import TenantInfo

MAX_DAYS_PER_QUERY = 31
LIVE = (AppointmentStatus.BOOKED.value, AppointmentStatus.AWAITING_PAYMENT.value)
OVERRIDE_HORIZON = timedelta(days=366)  # the front desk, overriding the policy's horizon
OVERRIDDEN = "booked by the clinic's staff, overriding the booking policy"
SLOT_TAKEN = "That time is not available: it has just been booked. Please choose another time."


async def bookable(db: AsyncSession, professional_id: uuid.UUID, type_id: uuid.UUID) -> Bookable:
    """The approved Professional's active consultation type, in one query (the free-times
    page's); NotFound saying which is missing."""
    return await _bookable(db, professional_id, type_id)


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
    return await free_times_of(db, tenant, kind, first_day=first_day, last_day=last_day, now=now)


async def free_times_of(
    db: AsyncSession,
    tenant: TenantInfo,
    kind: ConsultationType | Bookable,
    *,
    first_day: date,
    last_day: date,
    now: datetime,
) -> list[datetime]:
    """Free start times of a consultation type already found bookable (``bookable_type``):
    two queries, the diary and the holds, and the rest in Python."""
    if (last_day - first_day).days >= MAX_DAYS_PER_QUERY:
        raise InvalidInput({"to": f"Ask for at most {MAX_DAYS_PER_QUERY} days at a time."})
    await _requested(db, tenant, kind.professional_id, kind.id, kind.price_minor, now=now)
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
    override: bool = False,
) -> list[datetime]:
    """Free times in the diary's hours; ``override`` (the front desk, said explicitly and
    recorded) lifts the policy's notice and horizon, never the hours or someone's booking."""
    weekly, changes = await rows.diary(db, professional_id, first_day, last_day)
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
        held=set(),
        busy=await rows.busy(db, professional_id, window_start, window_end) if with_holds else (),
        earliest=now if override else now + timedelta(hours=tenant.booking.minimum_notice_hours),
        latest=now + OVERRIDE_HORIZON if override else latest_bookable(tenant, now),
        buffer=buffer(tenant),
    )


def buffer(tenant: TenantInfo) -> timedelta:
    return timedelta(minutes=tenant.booking.buffer_minutes)


def latest_bookable(tenant: TenantInfo, now: datetime) -> datetime:
    return now + timedelta(days=tenant.booking.horizon_days)


async def first_free(
    db: AsyncSession,
    tenant: TenantInfo,
    professional_id: uuid.UUID,
    duration_minutes: int,
    *,
    from_day: date,
    now: datetime,
    within_days: int | None = None,
) -> datetime | None:
    """The first free start on or after ``from_day`` ("next available"), searched a month
    (two queries) at a time up to how far ahead patients may book, or ``within_days``."""
    last = latest_bookable(tenant, now).astimezone(tenant.zone).date()
    if within_days is not None:
        last = min(last, from_day + timedelta(days=within_days - 1))
    first = from_day
    while first <= last:
        to = min(first + timedelta(days=MAX_DAYS_PER_QUERY - 1), last)
        found = await _free(db, tenant, professional_id, duration_minutes, first, to, now=now)
        if found:
            return found[0]
        first = to + timedelta(days=1)
    return None


async def next_free_of(
    db: AsyncSession, tenant: TenantInfo, professional_id: uuid.UUID, *, now: datetime
) -> datetime | None:
    """A Professional's first free time in the coming month, for the list of Professionals:
    of their shortest consultation (any longer one starts no earlier)."""
    shortest = await db.scalar(
        select(ConsultationType.duration_minutes)
        .where(
            ConsultationType.professional_id == professional_id,
            ConsultationType.active.is_(True),
        )
        .order_by(ConsultationType.duration_minutes)
        .limit(1)
    )
    if shortest is None:
        return None
    today = now.astimezone(tenant.zone).date()
    return await first_free(
        db, tenant, professional_id, shortest, from_day=today, now=now, within_days=31
    )


async def book(
    db: AsyncSession,
    tenant: TenantInfo,
    consumer: User,
    request: BookingRequest,
    *,
    now: datetime,
    by: User | None = None,
    override: bool = False,
) -> Appointment:
    """Book a free slot. The slot-hold key settles any race: one booking wins, others 409.

    In the same transaction: the disclosure to the Professional in the ledger, and either
    the confirmation's jobs (free) or a hold until the consumer has paid. ``by``: the member
    of staff booking for the patient (the ledger names them; the clinic takes any payment
    itself, so it is confirmed at once); ``override`` lifts notice and horizon, recorded.
    """
    if restricted(consumer):
        raise NotAllowed(RESTRICTED)  # Art. 18: stored only, nothing new done with it
    kind = await _bookable(db, request.professional_id, request.consultation_type_id)
    paying = await _requested(
        db, tenant, kind.professional_id, kind.id, kind.price_minor, now=now, online=by is None
    )
    day = request.starts_at.astimezone(tenant.zone).date()
    # The diary's hours only: a time someone holds already fails on the slot-hold key below.
    free = await _free(
        db,
        tenant,
        kind.professional_id,
        kind.duration_minutes,
        day,
        day,
        now=now,
        with_holds=False,
        override=override and by is not None,
    )
    if request.starts_at not in free:
        raise Conflict("That time is not available. Please choose one of the times shown.")
    start = request.starts_at.astimezone(UTC)
    length = timedelta(minutes=kind.duration_minutes)
    end = start + length
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
    jobs = [] if paying else await confirm(db, tenant, appointment, now=now, paid=False)
    holds = [
        {
            "professional_id": kind.professional_id,
            "starts_at": unit,
            "appointment_id": appointment.id,
        }
        for unit in hold_units(*held_span(start, length, buffer(tenant)))
    ]
    try:
        await rows.add_appointment(db, appointment, holds)
    except IntegrityError:
        await db.rollback()  # nothing else was written yet
        raise Conflict(SLOT_TAKEN) from None
    await outbox.add_jobs(db, jobs)
    await ledger.append(db, _engaged(kind, consumer, by=by, override=override), now=now)
    await db.commit()
    diary_changed(kind.professional_id)
    return appointment


async def _requested(
    db: AsyncSession,
    tenant: TenantInfo,
    professional_id: uuid.UUID,
    type_id: uuid.UUID,
    price_minor: int,
    *,
    now: datetime,
    online: bool = True,
) -> bool:
    """Tell the other domains a consultation is chosen (they may refuse it: Conflict).
    Returns whether it is paid online (never when staff book: the clinic takes payment)."""
    paying = online and takes_payment(tenant, price_minor)
    await announce(
        db,
        tenant,
        APPOINTMENT_REQUESTED,
        now=now,
        professional_id=str(professional_id),
        consultation_type_id=str(type_id),
        paying=paying,
    )
    return paying


async def _bookable(db: AsyncSession, professional_id: uuid.UUID, type_id: uuid.UUID) -> Bookable:
    """The approved Professional and their active consultation type, in one query."""
    found = await rows.bookable(db, professional_id, type_id)
    if found is None:
        await approved_professional(db, professional_id)  # says which one is missing
        raise NotFound("We could not find that consultation type.")
    return found


def _engaged(
    kind: Bookable,
    consumer: User,
    operation: str = "booking",
    *,
    by: User | None = None,
    override: bool = False,
) -> Entry:
    """Booking shows the consumer's name and booking to the Professional they chose (P19);
    moving it shows them the new time (``operation`` "reschedule"). The actor is whoever did
    it: the patient, or the member of staff ``by`` (with any override of the policy)."""
    return Entry(
        kind=EventKind.DISCLOSURE,
        status=Status.RECORDED,
        recipient=kind.professional_name,
        recipient_kind=RecipientKind.PROFESSIONAL,
        recipient_id=kind.professional_id,
        operation=operation,
        categories=[DataCategory.NAME.value, DataCategory.APPOINTMENT.value],
        purpose="arrange and provide the booked consultation",
        legal_basis="contract",
        subject_id=consumer.id,
        actor_id=by.id if by is not None else consumer.id,
        reason=OVERRIDDEN if by is not None and override else "",
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
    """Until when the consumer may cancel or move it online (the cancellation window)."""
    return changeable_until(tenant, appointment.starts_at)


def changeable(tenant: TenantInfo, appointment: Appointment, now: datetime) -> bool:
    return appointment.status in LIVE and now <= cancellable_until(tenant, appointment)


def _too_late(tenant: TenantInfo, done: str, do: str) -> NotAllowed:
    hours = tenant.booking.cancellation_window_hours
    return NotAllowed(
        f"Appointments can be {done} online up to {hours} hours before they start. "
        f"Please contact {tenant.name} to {do} this one."
    )


async def cancel_by_consumer(
    db: AsyncSession,
    tenant: TenantInfo,
    consumer: User,
    appointment_id: uuid.UUID,
    *,
    now: datetime,
    by: User | None = None,
    override: bool = False,
) -> Appointment:
    """Cancel within the tenant's window; the freed time becomes bookable again. ``by``: the
    member of staff cancelling at the patient's request (refunds follow the policy), who
    alone may ``override`` the window; the Professional is told who did it (ledger)."""
    appointment = await consumer_appointment(db, consumer.id, appointment_id)
    if appointment.status not in LIVE:
        raise Conflict("This appointment is already cancelled.")
    override = override and by is not None
    if now > cancellable_until(tenant, appointment) and not override:
        raise _too_late(tenant, "cancelled", "cancel")
    actor = by.id if by is not None else consumer.id
    await cancel(db, tenant, appointment, now=now, by=actor, by_clinic=False)
    if by is not None:
        kind = await rows.bookable(
            db, appointment.professional_id, appointment.consultation_type_id
        )
        if kind is not None:
            await ledger.append(
                db, _engaged(kind, consumer, "cancel", by=by, override=override), now=now
            )
    await db.commit()
    return appointment


async def reschedule_times(
    db: AsyncSession,
    tenant: TenantInfo,
    appointment: Appointment,
    *,
    first_day: date,
    last_day: date,
    now: datetime,
) -> list[datetime]:
    """Free times the appointment may move to: its own length, the policy's notice."""
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    found = await _free(
        db, tenant, appointment.professional_id, minutes, first_day, last_day, now=now
    )
    return [start for start in found if start != appointment.starts_at]


async def reschedule(
    db: AsyncSession,
    tenant: TenantInfo,
    consumer: User,
    appointment_id: uuid.UUID,
    starts_at: datetime,
    *,
    now: datetime,
    by: User | None = None,
    override: bool = False,
) -> Appointment:
    """Move a live appointment to another free time within the policy: the same appointment
    (a paid one stays paid), its diary holds moved, its reminder due again; the Professional
    is told (ledger) and the room and the messages follow (APPOINTMENT_RESCHEDULED)."""
    if restricted(consumer):
        raise NotAllowed(RESTRICTED)
    appointment = await consumer_appointment(db, consumer.id, appointment_id)
    if appointment.status not in LIVE:
        raise Conflict("This appointment is cancelled: book a new time instead.")
    override = override and by is not None  # only staff, saying so, lift the policy
    if now > cancellable_until(tenant, appointment) and not override:
        raise _too_late(tenant, "moved", "move")
    kind = await _bookable(db, appointment.professional_id, appointment.consultation_type_id)
    length = appointment.ends_at - appointment.starts_at
    start = starts_at.astimezone(UTC)
    day = start.astimezone(tenant.zone).date()
    minutes = int(length.total_seconds() // 60)
    hours_only = await _free(
        db,
        tenant,
        appointment.professional_id,
        minutes,
        day,
        day,
        now=now,
        with_holds=False,
        override=override,
    )
    if start not in hours_only or start == appointment.starts_at:
        raise Conflict("That time is not available. Please choose one of the times shown.")
    await rows.free_holds(db, appointment.id)
    holds = [
        {
            "professional_id": appointment.professional_id,
            "starts_at": unit,
            "appointment_id": appointment.id,
        }
        for unit in hold_units(*held_span(start, length, buffer(tenant)))
    ]
    try:
        await rows.add_holds(db, holds)
    except IntegrityError:
        await db.rollback()  # the old holds come back: nothing changed
        raise Conflict(SLOT_TAKEN) from None
    was = appointment.starts_at
    appointment.starts_at, appointment.ends_at = start, start + length
    appointment.reminder_queued_at = None  # the reminder is due again, before the new time
    jobs = await announce(
        db,
        tenant,
        APPOINTMENT_RESCHEDULED,
        now=now,
        appointment_id=str(appointment.id),
        mode=appointment.mode,
        was=was.isoformat(),
        confirmed=appointment.status == AppointmentStatus.BOOKED.value,
    )
    await outbox.add_jobs(db, jobs)
    await ledger.append(
        db, _engaged(kind, consumer, "reschedule", by=by, override=override), now=now
    )
    await db.commit()
    diary_changed(appointment.professional_id)
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
