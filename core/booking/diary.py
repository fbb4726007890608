"""A Professional's own diary: weekly hours, time off and extra hours, consultation types.

Time off over booked consultations is never saved blindly: ``clashes`` lists them first, and
the Professional then keeps them or has them cancelled by the clinic (``save_day_change``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from praxis.core.accounts.models import Professional
from praxis.core.booking.confirmation import cancel, diary_changed
from praxis.core.booking.forms import ConsultationTypeForm, DayChangeForm, WeeklyHoursForm
from praxis.core.booking.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    ConsultationType,
    WeeklyAvailability,
)
from praxis.core.errors import Conflict, InvalidInput, NotFound
from praxis.tenants.directory import TenantInfo

LIVE = (AppointmentStatus.BOOKED.value, AppointmentStatus.AWAITING_PAYMENT.value)
CHANGED_SINCE = (
    "The consultations in this time have changed since you looked: please check them again."
)


async def _saved(db: AsyncSession, professional: Professional) -> None:
    """Commit a change to the diary; this process's free-times pages then show it at once."""
    await db.commit()
    diary_changed(professional.id)


async def consultation_types(
    db: AsyncSession, professional_id: uuid.UUID, *, active_only: bool = True
) -> list[ConsultationType]:
    query = select(ConsultationType).where(ConsultationType.professional_id == professional_id)
    if active_only:
        query = query.where(ConsultationType.active.is_(True))
    order = (ConsultationType.duration_minutes, ConsultationType.name, ConsultationType.id)
    return list((await db.scalars(query.order_by(*order))).all())


async def add_consultation_type(
    db: AsyncSession, professional: Professional, form: ConsultationTypeForm
) -> ConsultationType:
    kind = ConsultationType(
        professional_id=professional.id,
        name=form.name,
        duration_minutes=form.duration_minutes,
        price_minor=form.price_minor(),
        currency=form.currency,
        mode=form.mode.value,
    )
    db.add(kind)
    await _saved(db, professional)
    return kind


async def retire_consultation_type(
    db: AsyncSession, professional: Professional, type_id: uuid.UUID
) -> None:
    """Stop offering it; booked appointments keep their type."""
    kind = await db.scalar(
        select(ConsultationType).where(
            ConsultationType.id == type_id, ConsultationType.professional_id == professional.id
        )
    )
    if kind is None:
        raise NotFound("We could not find that consultation type.")
    kind.active = False
    await _saved(db, professional)


async def weekly_hours(db: AsyncSession, professional_id: uuid.UUID) -> list[WeeklyAvailability]:
    query = select(WeeklyAvailability).where(WeeklyAvailability.professional_id == professional_id)
    order = (WeeklyAvailability.weekday, WeeklyAvailability.starts_at)
    return list((await db.scalars(query.order_by(*order))).all())


async def _refuse_overlap(
    db: AsyncSession, professional: Professional, form: WeeklyHoursForm, *, besides: uuid.UUID
) -> None:
    for other in await weekly_hours(db, professional.id):
        overlaps = other.starts_at < form.ends_at and form.starts_at < other.ends_at
        if other.id != besides and other.weekday == form.weekday and overlaps:
            raise InvalidInput(
                {"starts_at": "These hours overlap hours you already have on that day."}
            )


async def add_weekly_hours(
    db: AsyncSession, professional: Professional, form: WeeklyHoursForm
) -> WeeklyAvailability:
    await _refuse_overlap(db, professional, form, besides=uuid.UUID(int=0))
    rule = WeeklyAvailability(
        professional_id=professional.id,
        weekday=form.weekday,
        starts_at=form.starts_at,
        ends_at=form.ends_at,
    )
    db.add(rule)
    await _saved(db, professional)
    return rule


async def weekly_rule(
    db: AsyncSession, professional: Professional, rule_id: uuid.UUID
) -> WeeklyAvailability:
    """One of the Professional's own weekly windows (another's, or another clinic's: 404)."""
    rule = await db.scalar(
        select(WeeklyAvailability).where(
            WeeklyAvailability.id == rule_id,
            WeeklyAvailability.professional_id == professional.id,
        )
    )
    if rule is None:
        raise NotFound("We could not find those hours.")
    return rule


async def change_weekly_hours(
    db: AsyncSession, professional: Professional, rule_id: uuid.UUID, form: WeeklyHoursForm
) -> WeeklyAvailability:
    """Edit a window in place (day and times); booked consultations are not moved."""
    rule = await weekly_rule(db, professional, rule_id)
    await _refuse_overlap(db, professional, form, besides=rule.id)
    rule.weekday, rule.starts_at, rule.ends_at = form.weekday, form.starts_at, form.ends_at
    await _saved(db, professional)
    return rule


async def remove_weekly_hours(
    db: AsyncSession, professional: Professional, rule_id: uuid.UUID
) -> None:
    await db.delete(await weekly_rule(db, professional, rule_id))
    await _saved(db, professional)


async def day_changes(
    db: AsyncSession, professional_id: uuid.UUID, *, since: date
) -> list[AvailabilityException]:
    query = select(AvailabilityException).where(
        AvailabilityException.professional_id == professional_id,
        AvailabilityException.until_date >= since,
    )
    order = (AvailabilityException.on_date, AvailabilityException.starts_at)
    return list((await db.scalars(query.order_by(*order))).all())


def check_day_change(form: DayChangeForm, *, today: date) -> None:
    if form.on_date < today:
        raise InvalidInput({"on_date": "Choose today or a later date."})


def _windows(tenant: TenantInfo, form: DayChangeForm) -> list[tuple[datetime, datetime]]:
    """The UTC spans a change covers: whole days, or its times on each day of the range."""
    zone, spans = tenant.zone, []
    if form.starts_at is None or form.ends_at is None:
        first = datetime.combine(form.on_date, datetime.min.time(), zone)
        after = datetime.combine(form.last_day + timedelta(days=1), datetime.min.time(), zone)
        return [(first.astimezone(UTC), after.astimezone(UTC))]
    day = form.on_date
    while day <= form.last_day:
        starts = datetime.combine(day, form.starts_at, zone).astimezone(UTC)
        spans.append((starts, datetime.combine(day, form.ends_at, zone).astimezone(UTC)))
        day += timedelta(days=1)
    return spans


async def clashes(
    db: AsyncSession,
    tenant: TenantInfo,
    professional: Professional,
    form: DayChangeForm,
    *,
    now: datetime,
) -> list[Appointment]:
    """The booked (or being paid) consultations still to come that time off would cover."""
    if form.available:
        return []  # extra hours take nothing away
    spans = _windows(tenant, form)
    query = (
        select(Appointment)
        .options(joinedload(Appointment.consumer), joinedload(Appointment.consultation_type))
        .where(
            Appointment.professional_id == professional.id,
            Appointment.status.in_(LIVE),
            Appointment.starts_at < spans[-1][1],
            Appointment.ends_at > max(spans[0][0], now),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    found = (await db.scalars(query)).all()
    return [a for a in found if any(a.starts_at < e and a.ends_at > s for s, e in spans)]


async def save_day_change(
    db: AsyncSession,
    tenant: TenantInfo,
    professional: Professional,
    form: DayChangeForm,
    *,
    today: date,
    now: datetime,
    by: uuid.UUID,
    shown: Collection[uuid.UUID] = (),
    cancel_them: bool = False,
) -> tuple[AvailabilityException, list[Appointment]]:
    """Save time off or extra hours; with ``cancel_them``, the clinic cancels the clashing
    consultations in the same transaction (patients told by email, refunded in full).

    ``shown`` are the clashes the Professional saw and decided on: if the clashes are not
    exactly those any more, nothing is saved (Conflict), so nothing is cancelled unseen.
    """
    check_day_change(form, today=today)
    found = await clashes(db, tenant, professional, form, now=now)
    if {a.id for a in found} != set(shown):
        raise Conflict(CHANGED_SINCE)
    change = AvailabilityException(
        professional_id=professional.id,
        on_date=form.on_date,
        until_date=form.last_day,
        starts_at=form.starts_at,
        ends_at=form.ends_at,
        available=form.available,
        note=form.note,
    )
    db.add(change)
    if cancel_them:
        for appointment in found:
            await cancel(db, tenant, appointment, now=now, by=by, by_clinic=True)
    await _saved(db, professional)
    return change, found if cancel_them else []


async def remove_day_change(
    db: AsyncSession, professional: Professional, change_id: uuid.UUID
) -> None:
    change = await db.scalar(
        select(AvailabilityException).where(
            AvailabilityException.id == change_id,
            AvailabilityException.professional_id == professional.id,
        )
    )
    if change is None:
        raise NotFound("We could not find that change.")
    await db.delete(change)
    await _saved(db, professional)
