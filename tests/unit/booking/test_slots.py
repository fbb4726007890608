"""core.booking.slots: weekly hours in local time -> free UTC slots (pure functions)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from praxis.core.booking.slots import (
    DayChange,
    Interval,
    free_slots,
    hold_units,
    local_to_utc,
    merge,
    open_hours,
)

LONDON = ZoneInfo("Europe/London")
SPRING_FORWARD = date(2026, 3, 29)  # 01:00 GMT -> 02:00 BST: local 01:00-01:59 never happens
AUTUMN_BACK = date(2026, 10, 25)  # 02:00 BST -> 01:00 GMT: local 01:00-01:59 happens twice
WINTER_MONDAY = date(2026, 1, 12)
SUMMER_MONDAY = date(2026, 7, 13)
EVERY_DAY = range(7)


def every_day(*intervals: Interval) -> dict[int, list[Interval]]:
    return {weekday: list(intervals) for weekday in EVERY_DAY}


def slots(
    first_day: date,
    last_day: date | None = None,
    *,
    weekly: dict[int, list[Interval]],
    minutes: int = 60,
    changes: list[DayChange] | None = None,
    held: set[datetime] | None = None,
    earliest: datetime | None = None,
    latest: datetime | None = None,
) -> list[datetime]:
    return free_slots(
        zone=LONDON,
        first_day=first_day,
        last_day=last_day or first_day,
        weekly=weekly,
        changes=changes or [],
        duration=timedelta(minutes=minutes),
        held=held or set(),
        earliest=earliest or datetime(2000, 1, 1, tzinfo=UTC),
        latest=latest or datetime(2100, 1, 1, tzinfo=UTC),
    )


def local(found: list[datetime]) -> list[str]:
    """Each slot as the clinic's wall clock shows it, e.g. '2026-03-29 09:00 BST'."""
    return [s.astimezone(LONDON).strftime("%Y-%m-%d %H:%M %Z") for s in found]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- ordinary days ---------------------------------------------------------------------------


def test_slots_come_out_in_utc_on_the_local_grid() -> None:
    found = slots(WINTER_MONDAY, weekly={0: [(time(9), time(12))]})
    assert found == [utc(2026, 1, 12, 9), utc(2026, 1, 12, 10), utc(2026, 1, 12, 11)]
    assert all(s.tzinfo is not None and s.utcoffset() == timedelta(0) for s in found)


def test_summer_time_shifts_the_utc_instant_not_the_local_time() -> None:
    found = slots(SUMMER_MONDAY, weekly={0: [(time(9), time(12))]})
    assert found == [utc(2026, 7, 13, 8), utc(2026, 7, 13, 9), utc(2026, 7, 13, 10)]


def test_no_hours_on_a_weekday_means_no_slots() -> None:
    assert slots(WINTER_MONDAY, weekly={1: [(time(9), time(17))]}) == []


def test_a_slot_must_fit_before_closing() -> None:
    found = slots(WINTER_MONDAY, weekly={0: [(time(9), time(10, 50))]}, minutes=30)
    assert local(found) == ["2026-01-12 09:00 GMT", "2026-01-12 09:30 GMT", "2026-01-12 10:00 GMT"]


def test_several_windows_on_one_day() -> None:
    weekly = {0: [(time(14), time(15)), (time(9), time(10))]}
    assert local(slots(WINTER_MONDAY, weekly=weekly)) == [
        "2026-01-12 09:00 GMT",
        "2026-01-12 14:00 GMT",
    ]


# --- daylight saving -------------------------------------------------------------------------


def test_local_nine_stays_nine_across_spring_forward() -> None:
    found = slots(
        SPRING_FORWARD - timedelta(days=1),
        SPRING_FORWARD + timedelta(days=1),
        weekly=every_day((time(9), time(10))),
    )
    assert local(found) == [
        "2026-03-28 09:00 GMT",
        "2026-03-29 09:00 BST",
        "2026-03-30 09:00 BST",
    ]
    assert found[1] == utc(2026, 3, 29, 8)


def test_local_nine_stays_nine_across_autumn_back() -> None:
    found = slots(
        AUTUMN_BACK - timedelta(days=1),
        AUTUMN_BACK + timedelta(days=1),
        weekly=every_day((time(9), time(10))),
    )
    assert local(found) == [
        "2026-10-24 09:00 BST",
        "2026-10-25 09:00 GMT",
        "2026-10-26 09:00 GMT",
    ]
    assert found[1] == utc(2026, 10, 25, 9)


def test_a_full_day_on_a_change_day_keeps_its_local_grid() -> None:
    for day in (SPRING_FORWARD, AUTUMN_BACK):
        found = slots(day, weekly=every_day((time(9), time(17))), minutes=30)
        wall = [s.astimezone(LONDON).strftime("%H:%M") for s in found]
        assert wall[0] == "09:00" and wall[-1] == "16:30" and len(wall) == 16


def test_local_times_in_the_spring_gap_are_skipped_not_shifted() -> None:
    # 01:00 and 01:30 do not exist that night; the hours still hold from 02:00.
    found = slots(SPRING_FORWARD, weekly=every_day((time(1), time(3))), minutes=30)
    assert local(found) == ["2026-03-29 02:00 BST", "2026-03-29 02:30 BST"]


def test_the_grid_does_not_slide_after_the_gap() -> None:
    # 45-minute grid from 00:15: 00:15, [01:00 gap], [01:45 gap], 02:30, 03:15.
    found = slots(SPRING_FORWARD, weekly=every_day((time(0, 15), time(4))), minutes=45)
    assert local(found) == [
        "2026-03-29 00:15 GMT",
        "2026-03-29 02:30 BST",
        "2026-03-29 03:15 BST",
    ]


def test_hours_that_end_in_the_gap_end_when_the_clock_jumps() -> None:
    found = slots(SPRING_FORWARD, weekly=every_day((time(0), time(1, 30))), minutes=30)
    assert local(found) == ["2026-03-29 00:00 GMT", "2026-03-29 00:30 GMT"]
    found = slots(SPRING_FORWARD, weekly=every_day((time(0, 30), time(1, 30))), minutes=60)
    assert found == []  # 00:30 GMT + 60 minutes is 02:30 BST, after the hours end


def test_hours_wholly_in_the_gap_offer_nothing() -> None:
    assert slots(SPRING_FORWARD, weekly=every_day((time(1), time(1, 45))), minutes=15) == []


def test_autumn_night_slots_are_real_and_never_repeat_a_local_time() -> None:
    found = slots(AUTUMN_BACK, weekly=every_day((time(0), time(3))), minutes=60)
    wall = [s.astimezone(LONDON).strftime("%H:%M") for s in found]
    assert wall == ["00:00", "01:00", "02:00"]
    assert len(set(found)) == len(found) == 3
    assert all(b - a >= timedelta(hours=1) for a, b in itertools.pairwise(found))


def test_local_to_utc() -> None:
    assert local_to_utc(WINTER_MONDAY, time(9), LONDON) == utc(2026, 1, 12, 9)
    assert local_to_utc(SUMMER_MONDAY, time(9), LONDON) == utc(2026, 7, 13, 8)
    assert local_to_utc(SPRING_FORWARD, time(1, 30), LONDON) is None
    assert local_to_utc(AUTUMN_BACK, time(1, 30), LONDON) == utc(2026, 10, 25, 0, 30)


# --- dated exceptions ------------------------------------------------------------------------


def test_a_whole_day_off() -> None:
    off = DayChange(WINTER_MONDAY, None, None, available=False)
    week = slots(
        WINTER_MONDAY, WINTER_MONDAY + timedelta(days=1), weekly=every_day((time(9), time(11)))
    )
    found = slots(
        WINTER_MONDAY,
        WINTER_MONDAY + timedelta(days=1),
        weekly=every_day((time(9), time(11))),
        changes=[off],
    )
    assert len(week) == 4
    assert local(found) == ["2026-01-13 09:00 GMT", "2026-01-13 10:00 GMT"]


def test_part_of_a_day_off() -> None:
    off = DayChange(WINTER_MONDAY, time(10), time(11), available=False)
    found = slots(WINTER_MONDAY, weekly={0: [(time(9), time(13))]}, changes=[off])
    assert local(found) == [
        "2026-01-12 09:00 GMT",
        "2026-01-12 11:00 GMT",
        "2026-01-12 12:00 GMT",
    ]


def test_a_short_break_blocks_the_slot_it_cuts_and_the_grid_restarts_after_it() -> None:
    off = DayChange(WINTER_MONDAY, time(9, 30), time(9, 45), available=False)
    found = slots(WINTER_MONDAY, weekly={0: [(time(9), time(11))]}, changes=[off])
    assert local(found) == ["2026-01-12 09:45 GMT"]


def test_extra_hours_on_a_day_without_weekly_hours() -> None:
    extra = DayChange(WINTER_MONDAY, time(18), time(20), available=True)
    assert local(slots(WINTER_MONDAY, weekly={}, changes=[extra])) == [
        "2026-01-12 18:00 GMT",
        "2026-01-12 19:00 GMT",
    ]


def test_extra_hours_join_the_weekly_hours() -> None:
    extra = DayChange(WINTER_MONDAY, time(10), time(12), available=True)
    found = slots(WINTER_MONDAY, weekly={0: [(time(9), time(11))]}, changes=[extra])
    assert local(found) == [
        "2026-01-12 09:00 GMT",
        "2026-01-12 10:00 GMT",
        "2026-01-12 11:00 GMT",
    ]


def test_changes_on_other_days_do_not_apply() -> None:
    other = DayChange(WINTER_MONDAY + timedelta(days=7), None, None, available=False)
    assert len(slots(WINTER_MONDAY, weekly={0: [(time(9), time(11))]}, changes=[other])) == 2


@pytest.mark.parametrize("order", [1, -1])
def test_time_off_wins_over_extra_hours_whatever_the_order(order: int) -> None:
    changes = [
        DayChange(WINTER_MONDAY, time(18), time(20), available=True),
        DayChange(WINTER_MONDAY, None, None, available=False),
    ][::order]
    assert slots(WINTER_MONDAY, weekly={0: [(time(9), time(11))]}, changes=changes) == []


def test_open_hours_applies_changes_in_local_time() -> None:
    weekly = {0: [(time(9), time(17))]}
    changes = [
        DayChange(WINTER_MONDAY, time(12), time(13), available=False),
        DayChange(WINTER_MONDAY, time(17), time(18), available=True),
    ]
    assert open_hours(weekly, changes, WINTER_MONDAY) == [
        (time(9), time(12)),
        (time(13), time(18)),
    ]


# --- what is already booked ------------------------------------------------------------------


def test_hold_units_cover_the_appointment_in_five_minute_units() -> None:
    start = utc(2026, 1, 12, 10)
    units = list(hold_units(start, start + timedelta(minutes=20)))
    assert units == [start + timedelta(minutes=m) for m in (0, 5, 10, 15)]


def test_held_units_block_overlapping_slots_of_other_durations() -> None:
    booked = utc(2026, 1, 12, 10)  # a 60-minute appointment, 10:00-11:00
    held = set(hold_units(booked, booked + timedelta(minutes=60)))
    weekly = {0: [(time(9), time(12))]}
    thirty = slots(WINTER_MONDAY, weekly=weekly, minutes=30, held=held)
    assert [s.strftime("%H:%M") for s in thirty] == ["09:00", "09:30", "11:00", "11:30"]
    forty_five = slots(WINTER_MONDAY, weekly=weekly, minutes=45, held=held)
    # grid 09:00, 09:45 (runs into 10:00), 10:30 (inside), 11:15 (ends 12:00)
    assert [s.strftime("%H:%M") for s in forty_five] == ["09:00", "11:15"]
    ninety = slots(WINTER_MONDAY, weekly=weekly, minutes=90, held=held)
    assert ninety == []


def test_a_short_booking_blocks_a_long_slot_around_it() -> None:
    booked = utc(2026, 1, 12, 10, 40)
    held = set(hold_units(booked, booked + timedelta(minutes=5)))
    found = slots(WINTER_MONDAY, weekly={0: [(time(9), time(12))]}, held=held)
    assert [s.strftime("%H:%M") for s in found] == ["09:00", "11:00"]


def test_held_units_given_in_another_time_zone_still_block() -> None:
    booked = datetime(2026, 7, 13, 10, tzinfo=LONDON)  # 09:00 UTC
    held = set(hold_units(booked, booked + timedelta(minutes=60)))
    found = slots(SUMMER_MONDAY, weekly={0: [(time(9), time(12))]}, held=held)
    assert local(found) == ["2026-07-13 09:00 BST", "2026-07-13 11:00 BST"]


# --- bounds ----------------------------------------------------------------------------------


def test_earliest_and_latest_bound_the_starts_inclusively() -> None:
    weekly = {0: [(time(9), time(13))]}
    found = slots(
        WINTER_MONDAY,
        weekly=weekly,
        earliest=utc(2026, 1, 12, 10),
        latest=utc(2026, 1, 12, 11),
    )
    assert found == [utc(2026, 1, 12, 10), utc(2026, 1, 12, 11)]
    found = slots(WINTER_MONDAY, weekly=weekly, earliest=utc(2026, 1, 12, 10, 1))
    assert found == [utc(2026, 1, 12, 11), utc(2026, 1, 12, 12)]


def test_nothing_when_the_bounds_exclude_every_day() -> None:
    weekly = every_day((time(9), time(17)))
    assert slots(WINTER_MONDAY, weekly=weekly, latest=utc(2026, 1, 11)) == []
    assert slots(WINTER_MONDAY, weekly=weekly, earliest=utc(2026, 1, 13)) == []


def test_a_range_of_days_is_in_order() -> None:
    found = slots(
        WINTER_MONDAY, WINTER_MONDAY + timedelta(days=13), weekly=every_day((time(9), time(17)))
    )
    assert len(found) == 14 * 8
    assert found == sorted(found)


# --- merging ---------------------------------------------------------------------------------


def test_merge_joins_overlapping_and_touching_intervals() -> None:
    assert merge([(time(13), time(15)), (time(9), time(11)), (time(10), time(12))]) == [
        (time(9), time(12)),
        (time(13), time(15)),
    ]
    assert merge([(time(9), time(10)), (time(10), time(11))]) == [(time(9), time(11))]
    assert merge([(time(9), time(17)), (time(10), time(11))]) == [(time(9), time(17))]
    assert merge([]) == []


def test_overlapping_weekly_windows_give_no_duplicate_slots() -> None:
    weekly = {0: [(time(9), time(11)), (time(10), time(12))]}
    found = slots(WINTER_MONDAY, weekly=weekly)
    assert local(found) == [
        "2026-01-12 09:00 GMT",
        "2026-01-12 10:00 GMT",
        "2026-01-12 11:00 GMT",
    ]
