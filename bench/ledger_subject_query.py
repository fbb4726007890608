"""ledger_subject_query: one person's disclosure history with 1,000,000 ledger rows vs 10,000.

What is timed is the consumer's "Who received my data" page's query as the page runs it:
a tenant session from ``Runtime.database``, ``praxis.core.ledger.history`` (the
index range of ``core.ledger.subject_events`` on (tenant, subject, seq), outcomes folded
into their attempts), the session closed. Two databases, each migrated with
``core.migrate.upgrade``: the same tenant's ledger has 1,000,000 rows in one and 10,000 in
the other, and the same probe subjects with the same 25 events each in both
(bench.ledger_rows). The line is the median latency of a random probe's history in the
big ledger / in the small one, over CALLS calls on each, paired and alternating.

On SQLite, and on PostgreSQL too when 127.0.0.1:5432 answers (user postgres, trust):
there the bench creates two databases of its own, queries them as the app does (``SET
ROLE praxis_app``, row-level security on, ``app.tenant_id`` set per transaction) and
drops them at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import ledger_rows, postgres
from bench.common import (
    PLATFORM_DOMAIN,
    BenchError,
    Workspace,
    note,
    prepare_database,
    report,
    sqlite_url,
    workspace,
)

NAME = "ledger_subject_query"
SQLITE, POSTGRES = f"{NAME}_sqlite", f"{NAME}_postgresql"
TARGET = 1.5
LINES = ((SQLITE, TARGET, False), (POSTGRES, TARGET, False))
BIG, SMALL = 1_000_000, 10_000
CALLS = int(os.environ.get("BENCH_LEDGER_CALLS", "1000"))  # per database, after a warm-up


def run() -> bool:
    with workspace() as space:
        passed = report(SQLITE, _sqlite(space), TARGET, higher_is_better=False)
        unreachable = postgres.unreachable()
        if unreachable is not None:
            postgres.skipped(POSTGRES, unreachable)
            return passed
        ratio = _postgres(space)
        return report(POSTGRES, ratio, TARGET, higher_is_better=False) and passed


# SQLite ----------------------------------------------------------------------------------


def _sqlite(space: Workspace) -> float:
    databases = {}
    for label, total in (("big", BIG), ("small", SMALL)):
        database, _ = prepare_database(space, f"ledger_{label}", tenants=1)
        assert isinstance(database, Path)  # a SQLite file
        started = time.monotonic()
        tenant_id = _fill_sqlite(database, total)
        note(f"sqlite {label}: {total:,} ledger rows in {time.monotonic() - started:.1f} s")
        databases[label] = (sqlite_url(database), tenant_id)
    return asyncio.run(_compare(space, databases))


def _fill_sqlite(database: Path, total: int) -> uuid.UUID:
    """One transaction, executemany of raw tuples stored as the app stores them (uuids as
    32 hex digits, UTC datetimes without a zone, as core.db.UTCDateTime writes them). The
    secondary indexes are dropped for the load and made again from their own DDL."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        (hex_id,) = connection.execute("SELECT id FROM tenants WHERE slug = 'demo'").fetchone()
        tenant_id = uuid.UUID(hex_id)
        connection.execute("PRAGMA cache_size = -262144")  # this connection only: 256 MiB
        connection.execute("PRAGMA journal_mode = DELETE")  # for the load: WAL again after
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("BEGIN IMMEDIATE")
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'ledger_events' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        marks = ", ".join("?" * len(ledger_rows.COLUMNS))
        connection.executemany(
            f"INSERT INTO ledger_events ({', '.join(ledger_rows.COLUMNS)}) VALUES ({marks})",
            ledger_rows.rows(
                total,
                tenant_id=hex_id,
                ident=lambda u: u.hex,
                moment=lambda d: d.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
            ),
        )
        connection.execute(
            "INSERT OR REPLACE INTO ledger_heads (tenant_id, last_seq, last_hash) VALUES (?, ?, ?)",
            (hex_id, total, ledger_rows.last_hash(total)),
        )
        for _, sql in indexes:
            connection.execute(sql)
        connection.execute("COMMIT")
        connection.execute("PRAGMA journal_mode = WAL")
    finally:
        connection.close()
    return tenant_id


# PostgreSQL ------------------------------------------------------------------------------


def _postgres(space: Workspace) -> float:
    names = postgres.names("big", "small")
    with postgres.databases(list(names.values())):
        databases = {}
        for label, total in (("big", BIG), ("small", SMALL)):
            url = postgres.url(names[label])
            postgres.migrate(space, url)
            started = time.monotonic()
            tenant_id = asyncio.run(_fill_postgres(names[label], total))
            took = time.monotonic() - started
            note(f"postgresql {label}: {total:,} ledger rows in {took:.1f} s ({names[label]})")
            databases[label] = (url, tenant_id)
        return asyncio.run(_compare(space, databases))


async def _fill_postgres(database: str, total: int) -> uuid.UUID:
    """The tenant (a Core INSERT), then its ledger by COPY (asyncpg copy_records_to_table),
    as the tables' owner."""
    import asyncpg
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import create_async_engine

    from bench.common import tenant_row
    from praxis.tenants.models import Tenant

    now = datetime.now(UTC)
    tenant = {**tenant_row("ledger"), "created_at": now, "updated_at": now}
    tenant_id: uuid.UUID = tenant["id"]
    engine = create_async_engine(postgres.url(database))
    try:
        async with engine.begin() as owner:
            await owner.execute(insert(Tenant.__table__), tenant)  # type: ignore[arg-type]
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(
        host=postgres.HOST, port=postgres.PORT, user=postgres.USER, database=database, timeout=10
    )
    try:
        indexes = await connection.fetch(  # the secondary ones: made again after the load
            "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_index x "
            "ON x.indexrelid = (quote_ident(i.indexname))::regclass "
            "WHERE i.tablename = 'ledger_events' AND NOT x.indisprimary"
        )
        async with connection.transaction():
            for index in indexes:
                await connection.execute(f'DROP INDEX "{index["indexname"]}"')
            records = ledger_rows.rows(
                total, tenant_id=tenant_id, ident=lambda u: u, moment=lambda d: d
            )
            await connection.copy_records_to_table(
                "ledger_events", records=records, columns=list(ledger_rows.COLUMNS)
            )
            for index in indexes:
                await connection.execute(index["indexdef"])
        await connection.execute(
            "INSERT INTO ledger_heads (tenant_id, last_seq, last_hash) VALUES ($1, $2, $3)",
            tenant_id,
            total,
            ledger_rows.last_hash(total),
        )
        await connection.execute("ANALYZE ledger_events")  # as autovacuum would after a load
    finally:
        await connection.close()
    return tenant_id


# Measuring -------------------------------------------------------------------------------


async def _compare(space: Workspace, databases: dict[str, tuple[str, uuid.UUID]]) -> float:
    """Median latency of a random probe's history, big / small, paired and alternating."""
    async with _runtimes(space, databases) as sites:
        chooser = random.Random(11)
        probes = ledger_rows.probe_ids()
        shown: dict[str, int] = {}
        for probe in probes:  # warm-up: every probe once on each, and the same answer
            for label, site in sites.items():
                _, lines = await _history(*site, probe)
                if shown.setdefault(label, lines) != lines or not lines:
                    raise BenchError(f"{label}: a probe's history has {lines} lines")
        times: dict[str, list[float]] = {label: [] for label in sites}
        for n in range(CALLS):
            probe = chooser.choice(probes)
            order = list(sites.items())
            for label, site in order if n % 2 == 0 else reversed(order):
                seconds, _ = await _history(*site, probe)
                times[label].append(seconds)
    medians = {label: statistics.median(values) for label, values in times.items()}
    for label, values in times.items():
        deciles = statistics.quantiles(values, n=10)
        note(
            f"{label}: median {medians[label] * 1e3:.2f} ms, p10 {deciles[0] * 1e3:.2f} ms, "
            f"p90 {deciles[-1] * 1e3:.2f} ms over {len(values)} calls ({shown[label]} lines)"
        )
    return medians["big"] / medians["small"]


async def _history(database: Any, tenant_id: uuid.UUID, subject: uuid.UUID) -> tuple[float, int]:
    from praxis.core.ledger import history

    started = time.perf_counter()
    async with database.reading(tenant_id) as db:
        lines = await history(db, subject)
    return time.perf_counter() - started, len(lines)


@contextlib.asynccontextmanager
async def _runtimes(
    space: Workspace, databases: dict[str, tuple[str, uuid.UUID]]
) -> AsyncIterator[dict[str, tuple[Any, uuid.UUID]]]:
    """Each database as the app opens it: the engine and sessions of core.runtime."""
    from praxis.core.config import load_settings
    from praxis.core.runtime import build_runtime

    runtimes = []
    try:
        sites = {}
        for label, (url, tenant_id) in databases.items():
            settings = load_settings(
                env="test",
                var_dir=space.path / "var",
                database_url=url,
                secret_key=space.secret,
                platform_domain=PLATFORM_DOMAIN,
            )
            runtimes.append(build_runtime(settings))
            sites[label] = (runtimes[-1].database, tenant_id)
        yield sites
    finally:
        for runtime in runtimes:
            await runtime.close()
