"""The dates of a clinic's exit (P29)."""

from __future__ import annotations

from datetime import date

import pytest

from praxis.core.privacy.exit import purge_after


@pytest.mark.parametrize(
    ("leaves_on", "months", "purged_from"),
    [
        (date(2027, 1, 15), 6, date(2027, 7, 15)),
        (date(2027, 8, 31), 6, date(2028, 3, 1)),  # no 31 February: the day after the month
        (date(2027, 12, 31), 1, date(2028, 1, 31)),
        (date(2027, 11, 30), 3, date(2028, 3, 1)),  # 2028-02-30 does not exist either
    ],
)
def test_records_are_purged_the_months_after_the_clinic_left(
    leaves_on: date, months: int, purged_from: date
) -> None:
    assert purge_after(leaves_on, months) == purged_from
