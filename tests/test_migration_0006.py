"""Migration 0006: today's STOP list and intake sharing answers become consent records with
their times and sources, and a downgrade puts them back (P35: no history is lost)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
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

T, CONSUMER, PRO, Q = (uuid.uuid4() for _ in range(4))
STOPPED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
ANSWERED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _when(conn: Connection, value: datetime) -> Any:
    return value.replace(tzinfo=None) if conn.dialect.name == "sqlite" else value


def seed(conn: Connection) -> None:
    """A clinic at revision 0004: a consumer whose number said STOP and who shared answers,
    and a stranger's number that said STOP too."""
    i = lambda v: db_id(conn, v)  # noqa: E731
    insert_clinic(conn, T)
    insert_account(conn, T, CONSUMER, "alex", "consumer")
    conn.execute(
        text(
            "INSERT INTO intake_questionnaires (tenant_id, id, resource, title, version, active, "
            "created_at) VALUES (:t, :id, '{}', 'q', '1', true, CURRENT_TIMESTAMP)"
        ),
        {"t": i(T), "id": i(Q)},
    )
    conn.execute(
        text(
            "INSERT INTO intake_responses (tenant_id, id, questionnaire_id, consumer_id, "
            "professional_id, answers_sealed, shared, completed_at) VALUES "
            "(:t, :id, :q, :c, :p, 'sealed', true, :at)"
        ),
        {
            "t": i(T),
            "id": i(uuid.uuid4()),
            "q": i(Q),
            "c": i(CONSUMER),
            "p": i(PRO),
            "at": _when(conn, ANSWERED_AT),
        },
    )
    for phone, source in (("+447700900001", "reply STOP"), ("+447700900999", "provider: x")):
        conn.execute(
            text(
                "INSERT INTO sms_opt_outs (tenant_id, phone, source, opted_out_at) "
                "VALUES (:t, :phone, :source, :at)"
            ),
            {"t": i(T), "phone": phone, "source": source, "at": _when(conn, STOPPED_AT)},
        )
    conn.commit()


def consent_rows(conn: Connection) -> list[tuple[Any, ...]]:
    rows = conn.execute(
        text(
            "SELECT subject_id, address, purpose, channel, scope_id, given, method, note "
            "FROM consent_records ORDER BY purpose, address"
        )
    )
    return [
        tuple(str(uuid.UUID(str(v))) if k in (0, 4) and v else v for k, v in enumerate(r))
        for r in rows
    ]


def old_state(conn: Connection) -> tuple[set[tuple[str, str]], list[Any]]:
    stops = {(r[0], r[1]) for r in conn.execute(text("SELECT phone, source FROM sms_opt_outs"))}
    shared = [r[0] for r in conn.execute(text("SELECT shared FROM intake_responses"))]
    return stops, shared


@pytest.mark.promise("P35")
def test_stops_and_sharing_answers_become_consent_records_and_come_back(
    fresh_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = settings_for(fresh_url, tmp_path)
    migrate.upgrade(settings, "0004")
    inspect_db(fresh_url, seed)
    migrate.upgrade(settings, "0006")

    assert inspect_db(fresh_url, consent_rows) == [
        (
            str(CONSUMER),
            None,
            "intake_sharing",
            "professional",
            str(PRO),
            True,
            "portal",
            "given",
        ),
        (
            str(CONSUMER),
            "+447700900001",
            "service",
            "sms",
            None,
            False,
            "sms_keyword",
            "reply STOP",
        ),
        (None, "+447700900999", "service", "sms", None, False, "provider_report", "provider: x"),
    ]

    def times(conn: Connection) -> list[Any]:
        query = "SELECT recorded_at FROM consent_records ORDER BY purpose, address"
        return [r[0] for r in conn.execute(text(query))]

    def naive_utc(value: Any) -> datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment

    found = [naive_utc(t) for t in inspect_db(fresh_url, times)]
    assert found == [t.replace(tzinfo=None) for t in (ANSWERED_AT, STOPPED_AT, STOPPED_AT)]

    migrate.downgrade(settings, "0004")
    stops, shared = inspect_db(fresh_url, old_state)
    assert stops == {("+447700900001", "reply STOP"), ("+447700900999", "provider: x")}
    assert [bool(s) for s in shared] == [True]
