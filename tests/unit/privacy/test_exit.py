"""The dates of a clinic's exit, and where the purge needs the retention role (P29)."""

from __future__ import annotations

from datetime import date

import pytest

from praxis.core.privacy.exit import RETENTION_ROLE, purge_after, retention_role_for


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


def test_only_a_restricted_role_on_postgresql_needs_the_retention_role() -> None:
    assert retention_role_for("postgresql+asyncpg://h/db", "praxis_app") == RETENTION_ROLE
    assert retention_role_for("postgresql+asyncpg://h/db", "") is None  # the owner deletes
    assert retention_role_for("sqlite+aiosqlite:///x.db", "praxis_app") is None
