"""The alembic history: up, down and up again on a fresh database of each backend, ending with a
schema the ORM agrees with and, on PostgreSQL, row-level security on every tenant table.

Each test that migrates (up, down, a new folder) does so on a database of its own (a temp SQLite
file; a PostgreSQL database created on the server of TEST_DATABASE_URL and dropped afterwards),
never the shared test schema. The tests that only look at the schema a migration from empty to
head leaves, or change it inside a transaction they roll back, share one such database per
backend (``migrated_url``), migrated once: each migration costs seconds.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

import praxis.core.models  # noqa: F401  (every table on Base.metadata)
from praxis.core import migrate
from praxis.core.config import Settings, load_settings
from praxis.core.db import Base
from praxis.core.tenancy import tagged_tables, tenant_tables
from praxis.migrations.security import FIXED_TRIGGER, app_role

SECRET = "migration-test-secret-key-long-enough-0123456789"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own on the server of TEST_DATABASE_URL, dropped afterwards."""
    server = make_url(os.environ["TEST_DATABASE_URL"])
    admin = server.render_as_string(hide_password=False)
    name = f"praxis_migrations_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database nobody else uses."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def migrated_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database nobody else uses, migrated from empty to head once for this
    module's tests that leave it as they found it."""
    with postgres_database() as url:
        migrate.upgrade(settings_for(url, tmp_path_factory.mktemp("migrated")))
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def migrated_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The same on each backend (SQLite: a temp file)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("migrated_postgres"))
    folder = tmp_path_factory.mktemp("migrated")
    url = f"sqlite+aiosqlite:///{folder / 'migrations.db'}"
    migrate.upgrade(settings_for(url, folder))
    return url


def settings_for(url: str, tmp_path: Path) -> Settings:
    return load_settings(
        PRAXIS_ENV="test", PRAXIS_VAR_DIR=str(tmp_path), DATABASE_URL=url, SECRET_KEY=SECRET
    )


def inspect_db(url: str, look: Any) -> Any:
    async def run() -> Any:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def db_id(conn: Connection, value: uuid.UUID) -> Any:
    """A UUID as each backend stores it in raw SQL (SQLite: 32 hex digits)."""
    return value.hex if conn.dialect.name == "sqlite" else value


def insert_clinic(conn: Connection, tenant_id: uuid.UUID) -> None:
    """A clinic row as every revision since 0001 accepts it, for seeding before a migration."""
    conn.execute(
        text(
            "INSERT INTO tenants (id, slug, name, timezone, locale, branding, controller, "
            "booking, retention, providers, status, created_at, updated_at) VALUES "
            "(:id, 'c', 'Clinic', 'UTC', 'en_GB', '{}', '{}', '{}', '{}', '{}', 'active', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"id": db_id(conn, tenant_id)},
    )


def insert_account(
    conn: Connection, tenant_id: uuid.UUID, user_id: uuid.UUID, username: str, role: str
) -> None:
    """An account of that clinic, as every revision since 0001 accepts it."""
    conn.execute(
        text(
            "INSERT INTO users (tenant_id, id, username, role, full_name, email, phone, "
            "address_line1, address_line2, town, postcode, country, password_hash, is_active, "
            "created_at) VALUES (:t, :id, :username, :role, :username, :email, "
            "'+447700900001', 'x', '', 'x', 'x', 'GB', 'x', true, CURRENT_TIMESTAMP)"
        ),
        {
            "t": db_id(conn, tenant_id),
            "id": db_id(conn, user_id),
            "username": username,
            "role": role,
            "email": f"{username}@example.org",
        },
    )


APPEND_ONLY = {"ledger_events", "ledger_heads"}  # no UPDATE/DELETE; the head: no DELETE
HEAD = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()


def test_the_history_is_one_line() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1
    revisions = list(scripts.walk_revisions())
    assert all(len(r._all_down_revisions) <= 1 for r in revisions)


def test_up_down_up(fresh_url: str, tmp_path: Path) -> None:
    settings = settings_for(fresh_url, tmp_path)
    expected = set(Base.metadata.tables)
    migrate.upgrade(settings)
    assert inspect_db(fresh_url, tables) == expected
    assert inspect_db(fresh_url, revision) == HEAD
    migrate.downgrade(settings, "base")
    assert inspect_db(fresh_url, tables) == set()
    assert inspect_db(fresh_url, revision) is None
    migrate.upgrade(settings)
    assert inspect_db(fresh_url, tables) == expected
    assert inspect_db(fresh_url, revision) == HEAD


def test_upgrading_twice_changes_nothing(migrated_url: str, tmp_path: Path) -> None:
    before = inspect_db(migrated_url, differences)
    migrate.upgrade(settings_for(migrated_url, tmp_path))  # the second time
    assert inspect_db(migrated_url, revision) == HEAD
    assert inspect_db(migrated_url, tables) == set(Base.metadata.tables)
    assert inspect_db(migrated_url, differences) == before == []


def test_after_upgrade_the_orm_matches_the_schema(migrated_url: str) -> None:
    assert inspect_db(migrated_url, revision) == HEAD
    assert inspect_db(migrated_url, differences) == []


def test_the_comparison_would_notice_a_difference(migrated_url: str) -> None:
    name = "ix_appointments_tenant_id_consumer_id_starts_at"
    (index,) = [i for i in Base.metadata.tables["appointments"].indexes if i.name == name]

    def drop_an_index(conn: Connection) -> list[Any]:
        conn.execute(text(f"DROP INDEX {name}"))
        try:
            return differences(conn)
        finally:  # put back for the other tests (SQLite commits DDL at once)
            index.create(conn)
            conn.commit()

    found = inspect_db(migrated_url, drop_an_index)
    assert [d[0] for d in found] == ["add_index"]


def test_a_sqlite_folder_is_created(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'deeper' / 'praxis.db'}"
    migrate.upgrade(settings_for(url, tmp_path))
    assert (tmp_path / "nested" / "deeper" / "praxis.db").exists()


@pytest.mark.promise("P27")
def test_no_row_of_any_walled_table_can_move_to_another_tenant(migrated_url: str) -> None:
    """tenant_id is fixed in the database itself: a trigger on every table behind the wall,
    whoever writes (a later migration that rebuilds a table must make it again)."""
    fresh_url = migrated_url  # the rows it adds are rolled back

    def triggers(conn: Connection) -> set[str]:
        if conn.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        return {row[0] for row in conn.execute(text(query))}

    found = inspect_db(fresh_url, triggers)
    walled = tenant_tables() + tagged_tables()
    assert {f"{name}_{FIXED_TRIGGER}" for name in walled} <= found

    def move(conn: Connection) -> str:
        a, b = uuid.uuid4(), uuid.uuid4()
        for tenant in (a, b):
            conn.execute(
                text(
                    "INSERT INTO tenants (id, slug, name, timezone, locale, branding, controller, "
                    "booking, retention, providers, status, created_at, updated_at) VALUES "
                    "(:id, :slug, 'x', 'UTC', 'en_GB', '{}', '{}', '{}', '{}', '{}', 'active', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": tenant.hex if conn.dialect.name == "sqlite" else tenant, "slug": tenant.hex},
            )
        conn.execute(
            text(
                "INSERT INTO outbox_jobs (id, tenant_id, topic, payload, status, attempts, "
                "run_after, last_error, created_at) VALUES (:id, :t, 'x', '{}', 'pending', 0, "
                "CURRENT_TIMESTAMP, '', CURRENT_TIMESTAMP)"
            ),
            {"id": uuid.uuid4().hex, "t": a.hex if conn.dialect.name == "sqlite" else a},
        )
        try:
            conn.execute(
                text("UPDATE outbox_jobs SET tenant_id = :b"),
                {"b": b.hex if conn.dialect.name == "sqlite" else b},
            )
        except Exception as exc:  # the database refuses, as it should
            conn.rollback()
            return str(exc)
        conn.rollback()
        return "moved"

    assert "a row cannot move to another tenant" in inspect_db(fresh_url, move)


def test_every_tenant_table_leads_its_key_with_tenant_id() -> None:
    for name in tenant_tables():
        table = Base.metadata.tables[name]
        assert table.primary_key.columns.values()[0].name == "tenant_id", name
        for index in table.indexes:
            assert index.columns.values()[0].name == "tenant_id", index.name


if "postgresql" in BACKENDS:

    @pytest.fixture
    def postgres_url(migrated_postgres: str) -> str:
        """Each test below reads the migrated schema or rolls back what it adds."""
        return migrated_postgres

    def test_every_tenant_table_has_forced_row_level_security(
        postgres_url: str,
    ) -> None:

        def security(conn: Connection) -> dict[str, Any]:
            rows = conn.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                    "  (SELECT array_agg(p.polname::text) FROM pg_policy p "
                    "   WHERE p.polrelid = c.oid) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind = 'r'"
                )
            )
            return {r[0]: (r[1], r[2], sorted(r[3] or [])) for r in rows}

        found = inspect_db(postgres_url, security)
        assert tenant_tables() and tagged_tables()
        for name in tenant_tables():
            assert found[name] == (True, True, ["tenant_isolation"]), name
        for name in tagged_tables():  # the outbox: a tenant sees its own; workers all
            assert found[name] == (True, True, ["tenant_rows"]), name
        for name in set(Base.metadata.tables) - set(tenant_tables()) - set(tagged_tables()):
            assert found[name] == (False, False, []), name

    def test_the_app_role_can_use_every_table_but_not_bypass_security(
        postgres_url: str,
    ) -> None:
        role = app_role()

        def grants(conn: Connection) -> dict[str, Any]:
            bypass = conn.execute(
                text("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = :r"),
                {"r": role},
            ).one()
            usable = {
                name: conn.execute(
                    text("SELECT has_table_privilege(:r, :t, 'SELECT, INSERT, UPDATE, DELETE')"),
                    {"r": role, "t": name},
                ).scalar()
                for name in Base.metadata.tables
            }
            return {"bypass": tuple(bypass), "usable": usable}

        found = inspect_db(postgres_url, grants)
        assert found["bypass"] == (False, False)
        usable = {name: ok for name, ok in found["usable"].items() if name not in APPEND_ONLY}
        assert all(usable.values()), usable

    @pytest.mark.promise("P20")
    def test_the_app_role_can_only_read_and_add_to_the_ledger(
        postgres_url: str,
    ) -> None:
        """Tamper evidence starts with the database: the app cannot rewrite history."""
        role = app_role()

        def rights(conn: Connection) -> dict[str, bool]:
            return {
                privilege: conn.execute(
                    text("SELECT has_table_privilege(:r, 'ledger_events', :p)"),
                    {"r": role, "p": privilege},
                ).scalar_one()
                for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            }

        assert inspect_db(postgres_url, rights) == {
            "SELECT": True,
            "INSERT": True,
            "UPDATE": False,
            "DELETE": False,
            "TRUNCATE": False,
        }

        def head_rights(conn: Connection) -> dict[str, bool]:
            return {
                privilege: conn.execute(
                    text("SELECT has_table_privilege(:r, 'ledger_heads', :p)"),
                    {"r": role, "p": privilege},
                ).scalar_one()
                for privilege in ("UPDATE", "DELETE", "TRUNCATE")
            }

        # The head moves with each entry, but the app can never remove it (and so hide a cut).
        assert inspect_db(postgres_url, head_rights) == {
            "UPDATE": True,
            "DELETE": False,
            "TRUNCATE": False,
        }

    def test_policies_hide_other_tenants_rows(postgres_url: str) -> None:
        role = app_role()
        alpha, beta = uuid.uuid4(), uuid.uuid4()

        def isolate(conn: Connection) -> list[int]:
            for tenant, slug in ((alpha, "alpha"), (beta, "beta")):
                conn.execute(
                    text(
                        "INSERT INTO tenants (id, slug, name, timezone, locale, branding, "
                        "controller, booking, retention, providers, status, created_at, "
                        "updated_at) VALUES (:id, :slug, 'x', 'UTC', 'en_GB', '{}', '{}', '{}', "
                        "'{}', '{}', 'active', now(), now())"
                    ),
                    {"id": tenant, "slug": slug},
                )
                conn.execute(
                    text(
                        "INSERT INTO users (tenant_id, id, username, role, full_name, email, "
                        "phone, address_line1, address_line2, town, postcode, country, "
                        "password_hash, is_active, created_at) VALUES (:t, :id, :u, 'consumer', "
                        "'x', 'x@example.org', '+447911123456', 'x', '', 'x', 'N1 1AA', 'GB', "
                        "'x', true, now())"
                    ),
                    {"t": tenant, "id": uuid.uuid4(), "u": slug},
                )
            conn.execute(text(f'SET LOCAL ROLE "{role}"'))
            counts = []
            for setting in (str(alpha), ""):
                conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": setting})
                counts.append(conn.execute(text("SELECT count(*) FROM users")).scalar_one())
            conn.rollback()
            return counts

        assert inspect_db(postgres_url, isolate) == [1, 0]
