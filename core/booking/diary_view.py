"""The Professional's diary to read: a day or a week of consultations, hours and time off.

Two prebuilt statements (praxis.core.tenancy) whatever the number of consultations: the
period's appointments with each patient's name and consultation type, and the weekly hours
with the dated changes that touch the period. Times come out in the clinic's zone.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    String,
    bindparam,
    cast,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
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

# Times as the driver gives them, UTC either way (SQLite naive, asyncpg aware): the UTC type's
# own processing costs eight times as much per value, and a full week has hundreds.
_RAW_TIME = DateTime(timezone=True)

# Never-paid holds that went back to the diary are not consultations: left out.
_PERIOD = select_rows(
    select(
        type_coerce(_APPOINTMENTS.c.id, String),  # as stored: see _uuid_text
        type_coerce(_APPOINTMENTS.c.starts_at, _RAW_TIME),  # see _reader
        type_coerce(_APPOINTMENTS.c.ends_at, _RAW_TIME),
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


class Booked(NamedTuple):
    """One consultation as the diary shows it, its words ready: a week holds hundreds, and
    each formatted here costs a fraction of formatting it in the template."""

    id: str
    when: str  # "09:00 to 09:30", the clinic's time
    patient: str
    kind: str
    how: str  # "by video" or "in person"
    status: str
    past: bool


def _uuid_text(stored: object) -> str:
    """An id in its usual written form, from what the driver gives (SQLite: 32 hex digits;
    asyncpg: its own UUID), without building a Python UUID for each of hundreds of rows."""
    text = str(stored)
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


# "09:30" for each minute of the day: looked up, as strftime costs ten times as much.
_CLOCK = [f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in range(60)]


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
    start, end = _midnight(first_day, zone), _midnight(last_day + timedelta(days=1), zone)
    window = {"professional_id": professional_id, "start": start, "end": end}
    cancelled = AppointmentStatus.CANCELLED.value
    rows: Sequence[Any] = (await run(db, _PERIOD, window)).all()
    local, now = _reader(zone, start, end, rows[0][1] if rows else None, now)
    for id_, starts_at, ends_at, status, mode, patient, kind in rows:
        starts, ends = local(starts_at), local(ends_at)
        day = out[min(max((starts.date() - first_day).days, 0), span - 1)]  # over midnight
        when = (
            f"{_CLOCK[starts.hour * 60 + starts.minute]} to {_CLOCK[ends.hour * 60 + ends.minute]}"
        )
        how = "by video" if mode == "video" else "in person"
        item = Booked(_uuid_text(id_), when, patient, kind, how, status, ends_at <= now)
        (day.cancelled if status == cancelled else day.booked).append(item)
    return out


def _reader(
    zone: ZoneInfo, start: datetime, end: datetime, sample: datetime | None, now: datetime
) -> tuple[Callable[[datetime], datetime], datetime]:
    """How to read the rows' raw UTC times: to the clinic's wall clock (one fixed shift when
    the clocks do not change in the period, as in most weeks: a fifth of the cost of a
    time-zone conversion), and ``now`` in the same form, to compare with them."""
    naive = sample is not None and sample.tzinfo is None
    if naive:
        now = now.astimezone(UTC).replace(tzinfo=None)
    elif sample is not None and sample.utcoffset() != timedelta(0):
        return (lambda moment: moment.astimezone(zone)), now  # not UTC after all: convert
    offset = start.astimezone(zone).utcoffset()
    if offset is not None and end.astimezone(zone).utcoffset() == offset:
        return (lambda moment: moment + offset), now  # still labelled UTC: wall clock only
    if naive:
        return (lambda moment: moment.replace(tzinfo=UTC).astimezone(zone)), now
    return (lambda moment: moment.astimezone(zone)), now


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
