"""A Professional's own diary: weekly hours, dated changes, consultation types."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.models import Professional
from praxis.core.booking.forms import ConsultationTypeForm, DayChangeForm, WeeklyHoursForm
from praxis.core.booking.models import AvailabilityException, ConsultationType, WeeklyAvailability
from praxis.core.errors import InvalidInput, NotFound


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
    await db.commit()
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
    await db.commit()


async def weekly_hours(db: AsyncSession, professional_id: uuid.UUID) -> list[WeeklyAvailability]:
    query = select(WeeklyAvailability).where(WeeklyAvailability.professional_id == professional_id)
    order = (WeeklyAvailability.weekday, WeeklyAvailability.starts_at)
    return list((await db.scalars(query.order_by(*order))).all())


async def add_weekly_hours(
    db: AsyncSession, professional: Professional, form: WeeklyHoursForm
) -> WeeklyAvailability:
    for other in await weekly_hours(db, professional.id):
        overlaps = other.starts_at < form.ends_at and form.starts_at < other.ends_at
        if other.weekday == form.weekday and overlaps:
            raise InvalidInput(
                {"starts_at": "These hours overlap hours you already have on that day."}
            )
    rule = WeeklyAvailability(
        professional_id=professional.id,
        weekday=form.weekday,
        starts_at=form.starts_at,
        ends_at=form.ends_at,
    )
    db.add(rule)
    await db.commit()
    return rule


async def remove_weekly_hours(
    db: AsyncSession, professional: Professional, rule_id: uuid.UUID
) -> None:
    rule = await db.scalar(
        select(WeeklyAvailability).where(
            WeeklyAvailability.id == rule_id,
            WeeklyAvailability.professional_id == professional.id,
        )
    )
    if rule is None:
        raise NotFound("We could not find those hours.")
    await db.delete(rule)
    await db.commit()


async def day_changes(
    db: AsyncSession, professional_id: uuid.UUID, *, since: date
) -> list[AvailabilityException]:
    query = select(AvailabilityException).where(
        AvailabilityException.professional_id == professional_id,
        AvailabilityException.on_date >= since,
    )
    order = (AvailabilityException.on_date, AvailabilityException.starts_at)
    return list((await db.scalars(query.order_by(*order))).all())


async def add_day_change(
    db: AsyncSession, professional: Professional, form: DayChangeForm, *, today: date
) -> AvailabilityException:
    if form.on_date < today:
        raise InvalidInput({"on_date": "Choose today or a later date."})
    change = AvailabilityException(
        professional_id=professional.id,
        on_date=form.on_date,
        starts_at=form.starts_at,
        ends_at=form.ends_at,
        available=form.available,
        note=form.note,
    )
    db.add(change)
    await db.commit()
    return change


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
    await db.commit()
