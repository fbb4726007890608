"""The tests' databases: one per backend and test process, migrated once, then restored from a
named snapshot before every test.

Under pytest-xdist each worker has its own: a SQLite file in its own temp folder and a
PostgreSQL database named after TEST_DATABASE_URL's and the worker (``test_gw0``), created
here. A snapshot is a copy of every table's rows (a schema of its own on PostgreSQL, an
attached file on SQLite); restoring deletes every row and copies the snapshot's back, as the
tables' owner, in one transaction and one round trip: about 3 ms on PostgreSQL, where
TRUNCATE of every table took about 130 ms and re-creating a database from a template 250 ms.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import make_url

import praxis.core.models  # noqa: F401  (every table on Base.metadata)
from praxis.core.db import Base

EMPTY = "empty"
SCHEMA = "praxis_test_snapshots"  # PostgreSQL: where the snapshots' tables live
_MIGRATION_LOCK = 72_616_001  # an advisory lock: one worker migrates at a time (the role)


def tables() -> list[str]:
    """Every table the app owns, parents before children (alembic_version is not one)."""
    return [table.name for table in Base.metadata.sorted_tables]


def worker() -> str:
    """The pytest-xdist worker this process is (``gw0``...), or "" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


APP_ROLE = "praxis_app"  # what migration 0001 creates and 0018 lets sign in


def app_url(url: str) -> str:
    """The same database, signed in as the app's own role (no password: the tests' server
    trusts local connections), as the documented production set-up does."""
    return make_url(url).set(username=APP_ROLE, password=None).render_as_string()


def postgres_url_for_worker(url: str) -> str:
    """TEST_DATABASE_URL itself, or under xdist a database of this worker's beside it."""
    name = worker()
    if not name:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{name}").render_as_string(hide_password=False)


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Held while this process creates and migrates its database. The first migration creates
    the cluster-wide role ``praxis_app``: two workers doing so at once would collide."""

    async def connect() -> Any:
        return await asyncpg.connect(asyncpg_dsn(url))

    loop = asyncio.new_event_loop()
    try:
        conn = loop.run_until_complete(connect())
        try:
            loop.run_until_complete(conn.execute(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})"))
            yield
        finally:
            loop.run_until_complete(conn.close())  # the lock goes with the session
    finally:
        loop.close()


def create_database(server_url: str, url: str) -> None:
    """(Re)create the database of ``url`` on the server of ``server_url``: a worker's is its
    own, so dropping what an earlier run left there is safe."""
    name = make_url(url).database

    async def run() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(server_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(run())
    finally:
        loop.close()


class States(Protocol):
    async def save(self, name: str) -> None: ...
    async def restore(self, name: str) -> None: ...
    async def close(self) -> None: ...


class PostgresStates:
    """Snapshots as tables in a schema of their own, copied with INSERT ... SELECT."""

    def __init__(self, conn: asyncpg.Connection, names: list[str]) -> None:
        self.conn = conn
        self.names = names
        self.scripts: dict[str, str] = {EMPTY: self._script(EMPTY, [])}

    @classmethod
    async def open(cls, url: str) -> PostgresStates:
        conn = await asyncpg.connect(asyncpg_dsn(url))
        # A test that left a transaction open fails the next restore, rather than hanging it.
        await conn.execute("SET lock_timeout = '10s'")
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
        return cls(conn, tables())

    def _script(self, state: str, full: list[str]) -> str:
        statements = [f'DELETE FROM public."{n}"' for n in reversed(self.names)]
        statements += [
            f'INSERT INTO public."{n}" SELECT * FROM {SCHEMA}."{state}__{n}"' for n in full
        ]
        return ";\n".join(statements) + ";"

    async def save(self, name: str) -> None:
        assert name != EMPTY, "the empty state needs no snapshot"
        full = []
        for table in self.names:
            copy = f'{SCHEMA}."{name}__{table}"'
            await self.conn.execute(
                f'DROP TABLE IF EXISTS {copy}; CREATE TABLE {copy} AS TABLE public."{table}"'
            )
            if await self.conn.fetchval(f"SELECT count(*) FROM {copy}"):
                full.append(table)
        self.scripts[name] = self._script(name, full)

    async def restore(self, name: str) -> None:
        async with self.conn.transaction():
            await self.conn.execute(self.scripts[name])

    async def close(self) -> None:
        try:
            await self.conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        finally:
            await self.conn.close()


class SqliteStates:
    """Snapshots as copies of the database file (the backup API), attached to restore from."""

    def __init__(self, path: Path, folder: Path, names: list[str]) -> None:
        self.path = path
        self.folder = folder
        self.names = names
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        self.saved = 0
        self.scripts: dict[str, str] = {EMPTY: self._script(None)}

    @classmethod
    async def open(cls, url: str, folder: Path) -> SqliteStates:
        path = Path(make_url(url).database or "")
        return cls(path, folder, tables())

    def _script(self, alias: str | None) -> str:
        statements = ["BEGIN IMMEDIATE"] + [f'DELETE FROM main."{n}"' for n in reversed(self.names)]
        if alias is not None:
            statements += [
                f'INSERT INTO main."{n}" SELECT * FROM {alias}."{n}"' for n in self.names
            ]
        return ";\n".join([*statements, "COMMIT"]) + ";"

    async def save(self, name: str) -> None:
        assert name != EMPTY, "the empty state needs no snapshot"
        self.saved += 1
        alias = f"snapshot_{self.saved}"
        copy = self.folder / f"{alias}.db"
        with sqlite3.connect(copy) as target:
            self.conn.backup(target)
        target.close()
        self.conn.execute(f"ATTACH DATABASE ? AS {alias}", (str(copy),))
        self.scripts[name] = self._script(alias)

    async def restore(self, name: str) -> None:
        try:
            self.conn.executescript(self.scripts[name])
        except sqlite3.Error:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        self.conn.close()


@asynccontextmanager
async def database_states(url: str, folder: Path) -> AsyncIterator[States]:
    states: States
    if url.startswith("postgresql"):
        states = await PostgresStates.open(url)
    else:
        states = await SqliteStates.open(url, folder)
    try:
        yield states
    finally:
        await states.close()
