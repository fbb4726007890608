"""Migration 0021: a dated change becomes a range; every existing one was a single day, so it
ends on the day it starts, keeps its times, kind and note, and a downgrade drops the end."""

from __future__ import annotations

import uuid
from datetime import date, time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from praxis.core import migrate
from tests.test_migrations import (
    db_id,
    fresh_url,  # noqa: F401  (a fixture)
    insert_account,
    insert_clinic,
    inspect_db,
    settings_for,
)

T, USER, PRO, OFF, EXTRA = (uuid.uuid4() for _ in range(5))


def _at(conn: Connection, value: time | None) -> Any:
    return value.isoformat() if value and conn.dialect.name == "sqlite" else value


def seed(conn: Connection) -> None:
    """A clinic just before 0021 whose Professional has a day off and an evening of extra hours."""
    i = lambda v: db_id(conn, v)  # noqa: E731
    insert_clinic(conn, T)
    insert_account(conn, T, USER, "pat", "professional")
    conn.execute(
        text(
            "INSERT INTO professionals (tenant_id, id, user_id, display_name, qualifications, "
            "field_of_practice, bio, status, created_at) VALUES "
            "(:t, :id, :u, 'Pat', '', '', '', 'approved', CURRENT_TIMESTAMP)"
        ),
        {"t": i(T), "id": i(PRO), "u": i(USER)},
    )
    for change, day, starts, ends, available, note in (
        (OFF, date(2027, 3, 1), None, None, False, "Training"),
        (EXTRA, date(2027, 3, 2), time(18), time(20), True, ""),
    ):
        conn.execute(
            text(
                "INSERT INTO availability_exceptions (tenant_id, id, professional_id, on_date, "
                "starts_at, ends_at, available, note) VALUES "
                "(:t, :id, :p, :day, :starts, :ends, :available, :note)"
            ),
            {
                "t": i(T),
                "id": i(change),
                "p": i(PRO),
                "day": day,
                "starts": _at(conn, starts),
                "ends": _at(conn, ends),
                "available": available,
                "note": note,
            },
        )
    conn.commit()


def changes(conn: Connection) -> list[tuple[Any, ...]]:
    rows = conn.execute(
        text(
            "SELECT on_date, until_date, available, note FROM availability_exceptions "
            "ORDER BY on_date"
        )
    )
    return [
        tuple(str(v) if k < 2 else bool(v) if k == 2 else v for k, v in enumerate(r)) for r in rows
    ]


def refuses_backwards(conn: Connection) -> bool:
    try:
        with conn.begin_nested():
            conn.execute(text("UPDATE availability_exceptions SET until_date = '2027-02-01'"))
    except Exception:  # the range check: a last day before the first is refused
        return True
    return False


def columns(conn: Connection) -> set[str]:
    rows = conn.execute(text("SELECT * FROM availability_exceptions LIMIT 1"))
    return set(rows.keys())


def test_single_days_become_one_day_ranges_and_come_back(
    fresh_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = settings_for(fresh_url, tmp_path)
    migrate.upgrade(settings, "0019")
    inspect_db(fresh_url, seed)
    migrate.upgrade(settings, "0021")
    assert inspect_db(fresh_url, changes) == [
        ("2027-03-01", "2027-03-01", False, "Training"),
        ("2027-03-02", "2027-03-02", True, ""),
    ]
    assert inspect_db(fresh_url, refuses_backwards)
    migrate.downgrade(settings, "0019")
    assert "until_date" not in inspect_db(fresh_url, columns)
    migrate.upgrade(settings, "0021")
    assert len(inspect_db(fresh_url, changes)) == 2
