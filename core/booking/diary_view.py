"""The Professional's diary to read: a day or a week of consultations, hours and time off.

Two prebuilt statements (praxis.core.tenancy) whatever the number of consultations: the
period's appointments with each patient's name and consultation type, and the weekly hours
with the dated changes that touch the period. Times come out in the clinic's zone.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Date, String, bindparam, cast, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.models import User
from praxis.core.booking.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    ConsultationType,
    WeeklyAvailability,
)
from praxis.core.booking.slots import DayChange, Interval, open_hours
from praxis.core.db import table_of
from praxis.core.tenancy import narrowed, run, select_rows

_APPOINTMENTS = narrowed(table_of(Appointment))
_USERS = narrowed(table_of(User))
_TYPES = narrowed(table_of(ConsultationType))
_WEEKLY = narrowed(table_of(WeeklyAvailability))
_CHANGES = narrowed(table_of(AvailabilityException))

# Never-paid holds that went back to the diary are not consultations: left out.
_PERIOD = select_rows(
    select(
        _APPOINTMENTS.c.id,
        _APPOINTMENTS.c.starts_at,
        _APPOINTMENTS.c.ends_at,
        _APPOINTMENTS.c.status,
        _APPOINTMENTS.c.mode,
        _USERS.c.full_name,
        _TYPES.c.name,
    )
    .join_from(_APPOINTMENTS, _USERS, _USERS.c.id == _APPOINTMENTS.c.consumer_id)
    .join_from(_APPOINTMENTS, _TYPES, _TYPES.c.id == _APPOINTMENTS.c.consultation_type_id)
    .where(
        _APPOINTMENTS.c.professional_id == bindparam("professional_id"),
        _APPOINTMENTS.c.starts_at < bindparam("end"),
        _APPOINTMENTS.c.ends_at > bindparam("start"),
        _APPOINTMENTS.c.status != AppointmentStatus.RELEASED.value,
    )
    .order_by(_APPOINTMENTS.c.starts_at, _APPOINTMENTS.c.id)
)
_HOURS = select_rows(
    union_all(
        select(
            literal(True).label("weekly"),
            _WEEKLY.c.weekday,
            cast(null(), Date).label("on_date"),
            cast(null(), Date).label("until_date"),
            _WEEKLY.c.starts_at,
            _WEEKLY.c.ends_at,
            cast(null(), Boolean).label("available"),
            cast(null(), String).label("note"),
        ).where(_WEEKLY.c.professional_id == bindparam("professional_id")),
        select(
            literal(False),
            null(),
            _CHANGES.c.on_date,
            _CHANGES.c.until_date,
            _CHANGES.c.starts_at,
            _CHANGES.c.ends_at,
            _CHANGES.c.available,
            _CHANGES.c.note,
        ).where(
            _CHANGES.c.professional_id == bindparam("professional_id"),
            _CHANGES.c.on_date <= bindparam("last_day"),
            _CHANGES.c.until_date >= bindparam("first_day"),
        ),
    )
)


@dataclass(frozen=True, slots=True)
class Booked:
    """One consultation as the diary shows it (times already in the clinic's zone)."""

    id: uuid.UUID
    starts: datetime
    ends: datetime
    status: str
    mode: str
    patient: str
    kind: str
    past: bool

    @property
    def cancelled(self) -> bool:
        return self.status == AppointmentStatus.CANCELLED.value


@dataclass(frozen=True, slots=True)
class Change:
    """Time off or extra hours on a day, with the reason (for staff only)."""

    starts_at: time | None
    ends_at: time | None
    available: bool
    note: str


@dataclass
class Day:
    day: date
    today: bool
    hours: list[Interval] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    booked: list[Booked] = field(default_factory=list)
    cancelled: list[Booked] = field(default_factory=list)


def week_of(day: date) -> date:
    """The Monday the diary's week view starts on."""
    return day - timedelta(days=day.weekday())


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), zone).astimezone(UTC)


async def days(
    db: AsyncSession,
    zone: ZoneInfo,
    professional_id: uuid.UUID,
    first_day: date,
    last_day: date,
    *,
    now: datetime,
) -> list[Day]:
    """Each day from ``first_day`` to ``last_day``: open hours, changes and consultations."""
    today = now.astimezone(zone).date()
    span = (last_day - first_day).days + 1
    out = [
        Day(first_day + timedelta(days=n), first_day + timedelta(days=n) == today)
        for n in range(span)
    ]
    await _fill_hours(db, out, professional_id, first_day, last_day)
    window = {
        "professional_id": professional_id,
        "start": _midnight(first_day, zone),
        "end": _midnight(last_day + timedelta(days=1), zone),
    }
    cancelled = AppointmentStatus.CANCELLED.value
    for row in await run(db, _PERIOD, window):
        starts = row.starts_at.astimezone(zone)
        index = min(max((starts.date() - first_day).days, 0), span - 1)  # runs over midnight
        item = Booked(
            row.id, starts, row.ends_at.astimezone(zone), row.status, row.mode,
            row.full_name, row.name, row.ends_at <= now,
        )  # fmt: skip
        (out[index].cancelled if row.status == cancelled else out[index].booked).append(item)
    return out


async def _fill_hours(
    db: AsyncSession, out: list[Day], professional_id: uuid.UUID, first_day: date, last_day: date
) -> None:
    weekly: dict[int, list[Interval]] = defaultdict(list)
    changes: list[tuple[DayChange, str]] = []
    between = {"professional_id": professional_id, "first_day": first_day, "last_day": last_day}
    for row in await run(db, _HOURS, between):
        if row.weekly:
            weekly[row.weekday].append((row.starts_at, row.ends_at))
        else:
            rule = DayChange(row.on_date, row.starts_at, row.ends_at, row.available, row.until_date)
            changes.append((rule, row.note))
    rules = [rule for rule, _ in changes]
    for day in out:
        day.hours = open_hours(weekly, rules, day.day)
        day.changes = [
            Change(rule.starts_at, rule.ends_at, rule.available, note)
            for rule, note in changes
            if rule.covers(day.day)
        ]
