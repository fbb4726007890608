"""Migration 0027: sessions remember whether the sign-in provider gave the second factor. Sessions
open before it were not signed in that way (false), and a downgrade drops the column and keeps
the sessions."""

from __future__ import annotations

import uuid
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

T, USER, OPERATOR = (uuid.uuid4() for _ in range(3))
TABLES = ("user_sessions", "operator_sessions")


def seed(conn: Connection) -> None:
    """A clinic's staff member and an operator, each signed in, just before 0027."""
    i = lambda v: db_id(conn, v)  # noqa: E731
    insert_clinic(conn, T)
    insert_account(conn, T, USER, "pat", "professional")
    conn.execute(
        text(
            "INSERT INTO operators (id, username, full_name, email, password_hash, is_active, "
            "created_at) VALUES (:id, 'ops', 'Ops', 'ops@example.org', 'x', true, "
            "CURRENT_TIMESTAMP)"
        ),
        {"id": i(OPERATOR)},
    )
    conn.execute(
        text(
            "INSERT INTO user_sessions (tenant_id, id, token_hash, user_id, mfa_pending, "
            "created_at, last_seen_at, expires_at) VALUES (:t, :id, 'u', :u, false, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"t": i(T), "id": i(uuid.uuid4()), "u": i(USER)},
    )
    conn.execute(
        text(
            "INSERT INTO operator_sessions (token_hash, operator_id, mfa_pending, created_at, "
            "last_seen_at, expires_at) VALUES ('o', :o, false, CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"o": i(OPERATOR)},
    )
    conn.commit()


def sessions(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        table: [dict(row._mapping) for row in conn.execute(text(f"SELECT * FROM {table}"))]
        for table in TABLES
    }


def test_open_sessions_were_not_vouched_for_by_a_provider_and_survive_a_downgrade(
    fresh_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = settings_for(fresh_url, tmp_path)
    migrate.upgrade(settings, "0026")
    inspect_db(fresh_url, seed)
    migrate.upgrade(settings, "0027")
    upgraded = inspect_db(fresh_url, sessions)
    for table in TABLES:
        (row,) = upgraded[table]
        assert row["second_factor_by_provider"] in (False, 0), table
    migrate.downgrade(settings, "0026")
    downgraded = inspect_db(fresh_url, sessions)
    for table in TABLES:
        (row,) = downgraded[table]
        assert "second_factor_by_provider" not in row and row["mfa_pending"] in (False, 0)
    migrate.upgrade(settings, "0027")
    assert all(len(rows) == 1 for rows in inspect_db(fresh_url, sessions).values())
