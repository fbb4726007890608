"""The bench's own PostgreSQL databases on 127.0.0.1:5432 (user ``postgres``, trust).

Every database the bench makes is named ``praxis_bench_<pid>_<random>_<label>``, created
on entering ``databases`` and always dropped on leaving it, whatever happened; no other
database on the server (``test``, ``postgres``, the test runs' ones) is ever touched.
Scenarios run their PostgreSQL lines only if ``unreachable()`` says nothing, and print
``<line> SKIPPED: ...`` otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from bench.common import Workspace

HOST, PORT, USER = "127.0.0.1", 5432, "postgres"
SERVER = f"postgresql+asyncpg://{USER}@{HOST}:{PORT}"  # + "/<database>"
PREFIX = "praxis_bench_"


async def _connect(database: str, wait: float = 10) -> Any:
    import asyncpg

    return await asyncpg.connect(host=HOST, port=PORT, user=USER, database=database, timeout=wait)


async def _unreachable() -> str | None:
    import asyncpg

    try:
        connection = await _connect("postgres", wait=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"{HOST}:{PORT}: {type(exc).__name__}: {exc}"
    await connection.close()
    return None


def unreachable() -> str | None:
    """None if the server answers as ``postgres``, else why not (call outside a loop)."""
    return asyncio.run(_unreachable())


def skipped(line: str, why: str) -> None:
    print(f"{line} SKIPPED: PostgreSQL is not reachable ({why})", flush=True)


def names(*labels: str) -> dict[str, str]:
    """Fresh database names of the bench's own, one per label."""
    suffix = f"{os.getpid()}_{secrets.token_hex(3)}"
    return {label: f"{PREFIX}{suffix}_{label}" for label in labels}


def url(database: str) -> str:
    return f"{SERVER}/{database}"


def database_name(database_url: str) -> str:
    return database_url.rsplit("/", 1)[1]


@contextlib.contextmanager
def databases(created: Sequence[str]) -> Iterator[None]:
    """Create the databases, and always drop them (never ``test`` or anyone else's)."""
    if not all(name.startswith(PREFIX) for name in created):
        raise ValueError(f"the bench makes only {PREFIX}* databases: {created}")

    async def each(statement: str) -> None:
        connection = await _connect("postgres")
        try:
            for name in created:
                await connection.execute(statement.format(name=name))
        finally:
            await connection.close()

    asyncio.run(each('CREATE DATABASE "{name}"'))
    try:
        yield
    finally:
        asyncio.run(each('DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def migrate(space: Workspace, database_url: str) -> None:
    """``core.migrate.upgrade`` as the tables' owner; it also makes the app role."""
    from praxis.core import migrate as migrations
    from praxis.core.config import load_settings

    settings = load_settings(
        env="test", var_dir=space.path / "var", database_url=database_url, secret_key=space.secret
    )
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        migrations.upgrade(settings)


def count(database_url: str, queries: Mapping[str, str]) -> dict[str, int]:
    """Each query's single number, read as the owner (row-level security does not apply)."""

    async def each() -> dict[str, int]:
        connection = await _connect(database_name(database_url))
        try:
            return {label: int(await connection.fetchval(sql)) for label, sql in queries.items()}
        finally:
            await connection.close()

    return asyncio.run(each())


def counted(database: Any, queries: Mapping[str, str]) -> str:
    """ "12 appointments, 36 slot_holds": each query's number on either backend (a SQLite
    file, or a database URL here)."""
    if isinstance(database, str):
        found = count(database, queries)
    else:
        with sqlite3.connect(database) as connection:
            found = {k: int(connection.execute(q).fetchone()[0]) for k, q in queries.items()}
    return ", ".join(f"{n} {what}" for what, n in found.items())


Measure = Callable[[Workspace, Any, Any, str], float]


def on_both_backends(
    lines: tuple[str, str],
    targets: tuple[float, float],
    prefix: str,
    prepare: Callable[..., Any],
    measure: Measure,
) -> bool:
    """A write scenario on SQLite (both servers on one temp file), then on PostgreSQL (each
    server on a fresh database of its own, migrated alike; ours as the app role). Each
    backend's line stands on its own: one that raises fails only itself."""
    from bench.common import guarded, workspace

    def sqlite() -> float:
        with workspace() as space:
            database, _ = prepare(space, prefix, tenants=1)
            return measure(space, database, database, "")

    def on_postgres() -> float:
        created = names(f"{prefix}_ours", f"{prefix}_bare")
        with workspace() as space, databases(list(created.values())):
            ours_url, bare_url = (url(name) for name in created.values())
            database, _ = prepare(space, prefix, tenants=1, url=ours_url)
            migrate(space, bare_url)
            return measure(space, database, bare_url, "postgresql ")

    passed = guarded(lines[0], targets[0], sqlite)
    why = unreachable()
    if why is not None:
        skipped(lines[1], why)
        return passed
    return guarded(lines[1], targets[1], on_postgres) and passed
