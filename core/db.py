"""The engine, the declarative Base and the column types every backend shares.

Sessions, and the tenant wall every one of them goes through, are ``praxis.core.tenancy``'s.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, Table, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from praxis.core.config import ConfigError, Settings

WRITE_OPTION = "praxis_write"
# UPDATE ... RETURNING (a paid checkout's two statements) arrived in SQLite 3.35.
SQLITE_NEEDED = (3, 35, 0)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONDocument, str: String()}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Identified:
    """A random UUID id, second in the key after tenant_id: (tenant_id, id)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, sort_order=-90)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for the prebuilt statements of a hot path (praxis.core.tenancy)."""
    return Base.metadata.tables[model.__tablename__]


def check_sqlite_version(version: tuple[int, int, int] | None = None) -> None:
    """Fail at start-up, not on the first paid booking, when SQLite is too old."""
    version = version or sqlite3.sqlite_version_info
    if version < SQLITE_NEEDED:
        found = ".".join(map(str, version))
        needed = ".".join(map(str, SQLITE_NEEDED))
        raise ConfigError(
            f"SQLite {found} is too old: Praxis needs {needed} or newer (UPDATE ... RETURNING). "
            "Use a newer Python or operating system, or PostgreSQL (DATABASE_URL)."
        )


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    if url.startswith("sqlite"):
        check_sqlite_version()
        engine = create_async_engine(url, pool_size=settings.database_pool_size)
        _configure_sqlite(engine)
    else:
        engine = create_async_engine(
            url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size,
            # No pre-ping: on asyncpg it costs three round trips per checkout. Connections are
            # recycled instead, and one a restart broke is dropped when it first fails.
            pool_recycle=1800,
        )
        role = settings.database_role
        if role and make_url(url).username != role:
            # Connected as another user (development): act as the app's role. In production
            # the start-up check refuses such a user (praxis.core.tenancy.role).
            _set_role_on_connect(engine, role)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=10000",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        # Writers take the lock up front so a read-then-write never hits a stale snapshot.
        immediate = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _set_role_on_connect(engine: AsyncEngine, role: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _set_role(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET ROLE "{role}"')  # role name validated by Settings
        cursor.close()
        # The driver opened a transaction for that; a later rollback would undo the role.
        dbapi_connection.commit()


def enter_write_mode(session: AsyncSession) -> None:
    """From the next transaction on, take SQLite's write lock at BEGIN."""
    sync = session.sync_session
    sync.execution_options = sync.execution_options.union({WRITE_OPTION: True})
