"""Free slots from weekly availability, dated exceptions and what is already booked.

Pure functions: availability is kept in the tenant's local time (a Professional
who works 09:00-17:00 keeps doing so across daylight-saving changes); slots come
out in UTC. Slots start on a local grid (opening time plus whole durations); a
grid time that does not exist (the spring-forward gap) is skipped, never shifted,
and a local time that happens twice (autumn) is offered once, at its first occurrence.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from praxis.core.booking.models import HOLD_MINUTES

HOLD = timedelta(minutes=HOLD_MINUTES)
Interval = tuple[time, time]


@dataclass(frozen=True)
class DayChange:
    """A dated exception from ``on_date`` to ``until_date`` (inclusive): ``available`` adds
    hours, otherwise it removes them.

    Without times it covers whole days; with times, that part of each day.
    """

    on_date: date
    starts_at: time | None
    ends_at: time | None
    available: bool
    until_date: date | None = None  # None: the one day

    def covers(self, day: date) -> bool:
        return self.on_date <= day <= (self.until_date or self.on_date)


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


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted intervals with overlapping or touching ones joined."""
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
    """The local-time intervals a Professional is bookable on ``day``.

    Extra hours are added before time off is taken away, so time off always wins
    whatever order the changes come in.
    """
    todays = [c for c in changes if c.covers(day)]
    hours = list(weekly.get(day.weekday(), []))
    hours += [_span(c) for c in todays if c.available]
    for change in todays:
        if not change.available:
            hours = _subtract(hours, _span(change))
    return merge(hours)


def _span(change: DayChange) -> Interval:
    return (change.starts_at or time(0, 0), change.ends_at or time(23, 59, 59))


def _real(local: datetime) -> datetime | None:
    """UTC instant of an aware local datetime; None where the clock skips it."""
    instant = local.astimezone(UTC)
    if instant.astimezone(local.tzinfo).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """UTC instant of a local wall-clock time (its first occurrence); None in the gap."""
    return _real(datetime.combine(day, at, tzinfo=zone))


def hold_units(start: datetime, end: datetime) -> Iterator[datetime]:
    """The diary units an appointment from ``start`` to ``end`` occupies."""
    unit = start
    while unit < end:
        yield unit
        unit += HOLD


def _starts(
    day: date, hours: Interval, zone: ZoneInfo, duration: timedelta, step: timedelta
) -> Iterable[int]:
    """Starts (POSIX seconds) of every slot of ``duration``, ``step`` apart, inside ``hours``."""
    opens = datetime.combine(day, hours[0], tzinfo=zone)
    closes = datetime.combine(day, hours[1], tzinfo=zone)
    first, last = _real(opens), _real(closes)
    if first is not None and last is not None and opens.utcoffset() == closes.utcoffset():
        # No clock change inside: local and UTC agree, and whole seconds step evenly.
        begin, end = int(first.timestamp()), int(last.timestamp())
        return range(begin, end - _seconds(duration) + 1, _seconds(step))
    return [int(s.timestamp()) for s in _starts_across_clock_change(opens, closes, duration, step)]


def _seconds(span: timedelta) -> int:
    return span.days * 86400 + span.seconds


def _starts_across_clock_change(
    opens: datetime, closes: datetime, duration: timedelta, step: timedelta
) -> Iterator[datetime]:
    """The slow path, for the one window a year the clocks change in: unit by unit."""
    open_units: set[datetime] = set()
    wall = opens
    while wall < closes:
        for fold in (0, 1):
            instant = _real(wall.replace(fold=fold))
            if instant is not None:
                open_units.add(instant)
        wall += HOLD  # wall-clock arithmetic: aware datetimes in one zone add naively
    wall = opens
    while wall < closes:
        start = _real(wall)
        if start is not None and open_units.issuperset(hold_units(start, start + duration)):
            yield start
        wall += step


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
    buffer: timedelta = timedelta(0),
    busy: Sequence[tuple[datetime, datetime]] = (),
) -> list[datetime]:
    """Start times (UTC) of every bookable slot of ``duration`` between the two days.

    With a ``buffer``, slots start ``duration + buffer`` apart, and an appointment holds
    its buffer after it (``held_span``): a slot whose own span meets a held unit is taken,
    so two consultations are never closer than the buffer. ``busy``: appointments' (start,
    end), held like their units (with the buffer after each), as one row each is cheaper to
    read than its units.
    """
    # Computed in whole seconds, converted back to datetimes once for the slots found: a
    # week of a busy diary is hundreds of candidates (bench/free_times.py).
    found: list[int] = []
    step = duration + buffer
    span = _seconds(duration + buffer)
    taken = sorted(int(unit.timestamp()) for unit in held)
    gap = _seconds(buffer)
    intervals = sorted((int(a.timestamp()), int(b.timestamp()) + gap) for a, b in busy)
    ends = [end for _, end in intervals]
    lowest, highest = earliest.timestamp(), latest.timestamp()
    last_useful = latest.date() + timedelta(days=1)
    day = first_day
    while day <= last_day and day <= last_useful:  # nothing to find past the horizon
        for hours in open_hours(weekly, changes, day):
            for start in _starts(day, hours, zone, duration, step):
                if (
                    lowest <= start <= highest
                    and _clear(taken, start, span)
                    and _apart(intervals, ends, start, span)
                ):
                    found.append(start)
        day += timedelta(days=1)
    return [datetime.fromtimestamp(start, UTC) for start in found]


def _clear(taken: list[int], start: int, span: int) -> bool:
    """No held unit (``taken``, sorted seconds) inside the slot nor in the buffer after it."""
    first = bisect_left(taken, start)
    return first == len(taken) or taken[first] >= start + span


def _apart(intervals: list[tuple[int, int]], ends: list[int], start: int, span: int) -> bool:
    """The slot ``[start, start + span)`` meets none of the busy ``intervals`` (sorted; one
    Professional's never overlap, so their ends are sorted too)."""
    first = bisect_right(ends, start)  # the first busy interval still running at ``start``
    return first == len(intervals) or intervals[first][0] >= start + span


def held_span(start: datetime, duration: timedelta, buffer: timedelta) -> tuple[datetime, datetime]:
    """What an appointment holds in the diary: its time and the buffer after it."""
    return start, start + duration + buffer
