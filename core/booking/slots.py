"""Free slots from weekly availability, dated exceptions and what is already booked.

Pure functions: availability is kept in the tenant's local time (a Professional
who works 09:00-17:00 keeps doing so across daylight-saving changes); slots come
out in UTC. Local times that do not exist (the spring-forward gap) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.booking.models import HOLD_MINUTES

HOLD = timedelta(minutes=HOLD_MINUTES)
Interval = tuple[time, time]


@dataclass(frozen=True)
class DayChange:
    """A dated exception: ``available`` adds hours, otherwise it removes them.

    Without times it covers the whole day.
    """

    on_date: date
    starts_at: time | None
    ends_at: time | None
    available: bool


def _subtract(intervals: list[Interval], cut: Interval) -> list[Interval]:
    out: list[Interval] = []
    for start, end in intervals:
        if cut[1] <= start or cut[0] >= end:
            out.append((start, end))
            continue
        if start < cut[0]:
            out.append((start, cut[0]))
        if cut[1] < end:
            out.append((cut[1], end))
    return out


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def open_hours(
    weekly: dict[int, list[Interval]], changes: list[DayChange], day: date
) -> list[Interval]:
    """The local-time intervals a Professional is bookable on ``day``."""
    hours = list(weekly.get(day.weekday(), []))
    for change in (c for c in changes if c.on_date == day):
        whole = (time(0, 0), time(23, 59, 59))
        span = (change.starts_at or whole[0], change.ends_at or whole[1])
        hours = [*hours, span] if change.available else _subtract(hours, span)
    return _merge(hours)


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """UTC instant of a local wall-clock time; None where the clock skips it."""
    local = datetime.combine(day, at, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def hold_units(start: datetime, end: datetime) -> Iterator[datetime]:
    """The diary units an appointment from ``start`` to ``end`` occupies."""
    unit = start
    while unit < end:
        yield unit
        unit += HOLD


def free_slots(
    *,
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    weekly: dict[int, list[Interval]],
    changes: list[DayChange],
    duration: timedelta,
    held: set[datetime],
    earliest: datetime,
    latest: datetime,
) -> list[datetime]:
    """Start times (UTC) of every bookable slot of ``duration`` between the two days."""
    slots: list[datetime] = []
    day = first_day
    while day <= last_day:
        for opens, closes in open_hours(weekly, changes, day):
            start = local_to_utc(day, opens, zone)
            close = local_to_utc(day, closes, zone)
            if start is None or close is None:
                continue
            while start + duration <= close:
                if earliest <= start <= latest and not any(
                    unit in held for unit in hold_units(start, start + duration)
                ):
                    slots.append(start)
                start += duration
        day += timedelta(days=1)
    return slots
