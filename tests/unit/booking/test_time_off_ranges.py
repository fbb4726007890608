"""Time off and extra hours over a range of days (core.booking.slots.DayChange.until_date),
and the diary's entries written with their names escaped."""

from __future__ import annotations

from datetime import date, time, timedelta

from praxis.core.booking.diary_view import Booked
from praxis.core.booking.slots import DayChange, open_hours
from praxis.core.web.pages.diary import _cancelled, _items

MONDAY = date(2026, 1, 12)
WEEKLY = {weekday: [(time(9), time(17))] for weekday in range(7)}


def hours(changes: list[DayChange], day: date) -> list[tuple[time, time]]:
    return open_hours(WEEKLY, changes, day)


def test_a_range_of_whole_days_off_covers_each_day_and_no_other() -> None:
    off = DayChange(MONDAY, None, None, False, until_date=MONDAY + timedelta(days=2))
    assert hours([off], MONDAY - timedelta(days=1)) == [(time(9), time(17))]
    for n in range(3):
        assert hours([off], MONDAY + timedelta(days=n)) == []
    assert hours([off], MONDAY + timedelta(days=3)) == [(time(9), time(17))]


def test_times_apply_on_each_day_of_the_range() -> None:
    mornings = DayChange(MONDAY, time(9), time(12), False, until_date=MONDAY + timedelta(days=1))
    evenings = DayChange(MONDAY, time(18), time(20), True, until_date=MONDAY + timedelta(days=1))
    for n in range(2):
        assert hours([mornings, evenings], MONDAY + timedelta(days=n)) == [
            (time(12), time(17)),
            (time(18), time(20)),
        ]
    assert hours([mornings, evenings], MONDAY + timedelta(days=2)) == [(time(9), time(17))]


def test_a_change_without_an_end_is_its_one_day() -> None:
    off = DayChange(MONDAY, None, None, False)
    assert off.covers(MONDAY) and not off.covers(MONDAY + timedelta(days=1))


def test_diary_entries_escape_what_people_typed() -> None:
    entry = Booked(
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "09:00 to 09:30",
        '<script>alert("x")</script>',
        "Talk & <b>tea</b>",
        "by video",
        "awaiting_payment",
        True,
    )
    for written in (str(_items([entry])), str(_cancelled([entry]))):
        assert "<script>" not in written and "<b>" not in written
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in written
        assert "Talk &amp; &lt;b&gt;tea&lt;/b&gt;" in written
        assert 'href="/workspace/appointments/7c9e6679-7425-40de-944b-e07fc1f90ae7"' in written
    shown = str(_items([entry]))
    assert shown.startswith('<li class="past">') and "(past)" in shown
    assert "awaiting payment" in shown
