"""core.booking.slots: the gap between consultations and appointments read as intervals."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from praxis.core.booking.slots import free_slots, held_span, hold_units

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 7, 13)  # summer: London is UTC+1
WEEKLY = {weekday: [(time(9), time(13))] for weekday in range(7)}
EARLY, LATE = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 7, 13, hour, minute, tzinfo=LONDON).astimezone(UTC)


def free(
    *,
    minutes: int = 30,
    buffer: int = 0,
    held: set[datetime] | None = None,
    busy: list[tuple[datetime, datetime]] | None = None,
    first_day: date = DAY,
    last_day: date = DAY,
) -> list[datetime]:
    return free_slots(
        zone=LONDON,
        first_day=first_day,
        last_day=last_day,
        weekly=WEEKLY,
        changes=[],
        duration=timedelta(minutes=minutes),
        held=held or set(),
        earliest=EARLY,
        latest=LATE,
        buffer=timedelta(minutes=buffer),
        busy=busy or [],
    )


def test_a_buffer_spaces_the_slots_by_the_length_and_the_gap() -> None:
    assert free(buffer=10) == [at(9), at(9, 40), at(10, 20), at(11), at(11, 40), at(12, 20)]


def test_an_appointment_keeps_the_gap_after_it_and_before_it() -> None:
    # booked 10:20-10:50: with a 10-minute gap it holds until 11:00
    found = free(buffer=10, busy=[(at(10, 20), at(10, 50))])
    assert at(10, 20) not in found
    assert at(9, 40) in found  # ends 10:10 and keeps its own gap until 10:20
    assert at(11) in found
    units = set(hold_units(*held_span(at(10, 20), timedelta(minutes=30), timedelta(minutes=10))))
    assert free(buffer=10, held=units) == found  # the same answer from its units


@pytest.mark.parametrize("seed", range(20))
def test_appointments_as_intervals_free_the_same_times_as_their_units(seed: int) -> None:
    """Random diaries: reading each appointment as one interval gives what its 5-minute
    holds give, with and without a gap."""
    rng = random.Random(seed)
    buffer = rng.choice([0, 5, 10, 15])
    busy, held, cursor = [], set(), at(9)
    while cursor < at(13):
        cursor += timedelta(minutes=5 * rng.randint(0, 8))
        length = timedelta(minutes=rng.choice([15, 30, 60]))
        if cursor + length > at(13):
            break
        busy.append((cursor, cursor + length))
        held |= set(hold_units(*held_span(cursor, length, timedelta(minutes=buffer))))
        cursor += length + timedelta(minutes=buffer)
    for minutes in (15, 30, 60):
        assert free(minutes=minutes, buffer=buffer, busy=busy) == free(
            minutes=minutes, buffer=buffer, held=held
        )


def test_nothing_is_computed_past_the_horizon() -> None:
    found = free_slots(
        zone=LONDON,
        first_day=DAY,
        last_day=DAY + timedelta(days=30),
        weekly=WEEKLY,
        changes=[],
        duration=timedelta(minutes=60),
        held=set(),
        earliest=EARLY,
        latest=at(11),
    )
    assert found == [at(9), at(10), at(11)]
