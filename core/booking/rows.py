"""The booking hot path's statements, built once (praxis.core.tenancy): a day's diary, the
times held, the bookable type, and the appointment with its holds written as rows.

Listing free times and booking run these on every request, so they skip the ORM's per-
statement rebuilding (and a booking the unit of work); everything else uses the models.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, bindparam, cast, delete, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.models import Professional, ProfessionalStatus
from praxis.core.booking.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    ConsultationType,
    SlotHold,
    WeeklyAvailability,
)
from praxis.core.booking.slots import DayChange, Interval
from praxis.core.db import table_of
from praxis.core.tenancy import insert_rows, narrowed, run, select_rows

_PROFESSIONALS = narrowed(table_of(Professional))
_TYPES = narrowed(table_of(ConsultationType))
_WEEKLY = narrowed(table_of(WeeklyAvailability))
_EXCEPTIONS = narrowed(table_of(AvailabilityException))
_HOLDS = narrowed(table_of(SlotHold))
_COLUMNS = tuple(column.key for column in table_of(Appointment).c)

# One round trip for the diary of a day: its weekly hours and its dated changes together.
_DIARY = select_rows(
    union_all(
        select(
            literal(True).label("weekly"),
            _WEEKLY.c.weekday,
            cast(null(), Date).label("on_date"),
            _WEEKLY.c.starts_at,
            _WEEKLY.c.ends_at,
            cast(null(), Boolean).label("available"),
            cast(null(), Date).label("until_date"),
        ).where(_WEEKLY.c.professional_id == bindparam("professional_id")),
        select(
            literal(False),
            null(),
            _EXCEPTIONS.c.on_date,
            _EXCEPTIONS.c.starts_at,
            _EXCEPTIONS.c.ends_at,
            _EXCEPTIONS.c.available,
            _EXCEPTIONS.c.until_date,
        ).where(
            _EXCEPTIONS.c.professional_id == bindparam("professional_id"),
            _EXCEPTIONS.c.on_date <= bindparam("last_day"),  # ranges overlapping the days
            _EXCEPTIONS.c.until_date >= bindparam("first_day"),
        ),
    )
)
_HELD = select_rows(
    select(_HOLDS.c.starts_at).where(
        _HOLDS.c.professional_id == bindparam("professional_id"),
        _HOLDS.c.starts_at >= bindparam("start"),
        _HOLDS.c.starts_at < bindparam("end"),
    )
)
_BOOKABLE = select_rows(
    select(
        _TYPES.c.professional_id,
        _PROFESSIONALS.c.display_name.label("professional_name"),
        _TYPES.c.id,
        _TYPES.c.name,
        _TYPES.c.duration_minutes,
        _TYPES.c.price_minor,
        _TYPES.c.currency,
        _TYPES.c.mode,
    )
    .join_from(_TYPES, _PROFESSIONALS, _PROFESSIONALS.c.id == _TYPES.c.professional_id)
    .where(
        _TYPES.c.id == bindparam("type_id"),
        _TYPES.c.professional_id == bindparam("professional_id"),
        _TYPES.c.active.is_(True),
        _PROFESSIONALS.c.status == ProfessionalStatus.APPROVED.value,
    )
)
_APPOINTMENTS = narrowed(table_of(Appointment))
# The live appointments overlapping a window: what holds the diary, one row per appointment
# (a third of the rows of its 5-minute holds, for the same answer).
_BUSY = select_rows(
    select(_APPOINTMENTS.c.starts_at, _APPOINTMENTS.c.ends_at)
    .where(
        _APPOINTMENTS.c.professional_id == bindparam("professional_id"),
        _APPOINTMENTS.c.status.in_(bindparam("live", expanding=True)),
        _APPOINTMENTS.c.starts_at < bindparam("end"),
        _APPOINTMENTS.c.ends_at > bindparam("start"),
    )
    .order_by(_APPOINTMENTS.c.starts_at)
)
_ADD_APPOINTMENT = insert_rows(table_of(Appointment))
_ADD_HOLDS = insert_rows(table_of(SlotHold))


@dataclass(frozen=True)
class Bookable:
    """What booking needs of an approved Professional's active consultation type."""

    professional_id: uuid.UUID
    professional_name: str
    id: uuid.UUID
    name: str
    duration_minutes: int
    price_minor: int
    currency: str
    mode: str


async def diary(
    db: AsyncSession, professional_id: uuid.UUID, first_day: date, last_day: date
) -> tuple[dict[int, list[Interval]], list[DayChange]]:
    """The Professional's weekly hours, and their dated changes between the two days."""
    weekly: dict[int, list[Interval]] = defaultdict(list)
    changes: list[DayChange] = []
    between = {"professional_id": professional_id, "first_day": first_day, "last_day": last_day}
    for row in await run(db, _DIARY, between):
        if row.weekly:
            weekly[row.weekday].append((row.starts_at, row.ends_at))
        else:
            changes.append(
                DayChange(row.on_date, row.starts_at, row.ends_at, row.available, row.until_date)
            )
    return weekly, changes


async def held(
    db: AsyncSession, professional_id: uuid.UUID, start: datetime, end: datetime
) -> set[datetime]:
    found = await run(db, _HELD, {"professional_id": professional_id, "start": start, "end": end})
    return {starts_at for (starts_at,) in found}


async def busy(
    db: AsyncSession, professional_id: uuid.UUID, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The live appointments' (start, end) between the two instants, earliest first."""
    ids = {
        "professional_id": professional_id,
        "live": [AppointmentStatus.BOOKED.value, AppointmentStatus.AWAITING_PAYMENT.value],
        "start": start,
        "end": end,
    }
    return [(row.starts_at, row.ends_at) for row in await run(db, _BUSY, ids)]


async def bookable(
    db: AsyncSession, professional_id: uuid.UUID, type_id: uuid.UUID
) -> Bookable | None:
    """The approved Professional's active consultation type, in one query."""
    ids = {"professional_id": professional_id, "type_id": type_id}
    found = (await run(db, _BOOKABLE, ids)).first()
    return Bookable(**found._mapping) if found is not None else None


async def add_appointment(
    db: AsyncSession, appointment: Appointment, holds: list[dict[str, Any]]
) -> None:
    """The appointment and its slot holds as rows: the holds' key refuses a taken time
    (IntegrityError), and nothing else is written by then."""
    await run(db, _ADD_APPOINTMENT, {c: getattr(appointment, c) for c in _COLUMNS})
    await run(db, _ADD_HOLDS, holds)


async def add_holds(db: AsyncSession, holds: list[dict[str, Any]]) -> None:
    """Slot holds as rows: their key refuses a taken time (IntegrityError)."""
    await run(db, _ADD_HOLDS, holds)


async def free_holds(db: AsyncSession, appointment_id: uuid.UUID) -> None:
    """The appointment's time goes back to the diary (before it takes another)."""
    await db.execute(delete(SlotHold).where(SlotHold.appointment_id == appointment_id))
