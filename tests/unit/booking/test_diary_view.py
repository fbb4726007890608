"""The diary's reading of raw UTC times (naive from SQLite, aware from asyncpg) into the
clinic's wall clock, in ordinary weeks and in the week the clocks change, and its ids."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from praxis.core.booking.diary_view import _midnight, _reader, _uuid_text, week_of

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def _week(monday: date) -> tuple[datetime, datetime]:
    return _midnight(monday, NEW_YORK), _midnight(monday + timedelta(days=7), NEW_YORK)


@pytest.mark.parametrize("naive", [True, False])
@pytest.mark.parametrize(
    ("monday", "moment", "wall"),
    [
        # An ordinary summer week: one fixed shift (UTC-4).
        (date(2026, 6, 8), datetime(2026, 6, 10, 13, 30), (date(2026, 6, 10), 9, 30)),
        # The week the clocks go back (Sunday 1 November 2026): before and after the change.
        (date(2026, 10, 26), datetime(2026, 10, 30, 13, 0), (date(2026, 10, 30), 9, 0)),
        (date(2026, 10, 26), datetime(2026, 11, 1, 15, 0), (date(2026, 11, 1), 10, 0)),
    ],
)
def test_raw_times_read_as_the_clinics_wall_clock(
    naive: bool, monday: date, moment: datetime, wall: tuple[date, int, int]
) -> None:
    start, end = _week(monday)
    raw = moment if naive else moment.replace(tzinfo=UTC)
    local, now = _reader(NEW_YORK, start, end, raw, NOW)
    shown = local(raw)
    assert (shown.date(), shown.hour, shown.minute) == wall
    assert (now.tzinfo is None) == naive  # compared with the rows as they come
    assert (raw <= now) == (moment.replace(tzinfo=UTC) <= NOW)


def test_aware_times_in_another_offset_are_converted() -> None:
    start, end = _week(date(2026, 6, 8))
    raw = datetime(2026, 6, 10, 15, 30, tzinfo=timezone(timedelta(hours=2)))  # 13:30 UTC
    local, _ = _reader(NEW_YORK, start, end, raw, NOW)
    assert (local(raw).hour, local(raw).minute) == (9, 30)


def test_an_empty_week_keeps_now_as_it_is() -> None:
    start, end = _week(date(2026, 6, 8))
    _, now = _reader(NEW_YORK, start, end, None, NOW)
    assert now == NOW


def test_ids_are_written_as_usual_whatever_the_driver_gives() -> None:
    given = uuid.uuid4()
    assert _uuid_text(given.hex) == str(given)  # SQLite keeps 32 hex digits
    assert _uuid_text(given) == str(given)  # asyncpg: its own UUID, written with dashes
    assert _uuid_text(str(given)) == str(given)


def test_weeks_start_on_monday() -> None:
    assert week_of(date(2026, 12, 13)) == date(2026, 12, 7)
    assert week_of(date(2026, 12, 7)) == date(2026, 12, 7)
