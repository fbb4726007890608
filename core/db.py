"""Engine, sessions, the declarative Base and the tenant wall that fails closed.

Every table a tenant owns mixes in ``TenantScoped``: ``tenant_id`` leads its
primary key, and every ORM statement on it is filtered to the session's tenant.
A session without a tenant that touches such a table raises; platform code opts
out visibly with ``execution_options(platform_scope=True)``. On PostgreSQL the
same tenant id is set for row-level security at the start of each transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.types import TypeDecorator

from core.config import Settings

WRITE_OPTION = "praxis_write"
PLATFORM_SCOPE = "platform_scope"


class TenantContextMissing(RuntimeError):
    """A tenant-owned table was queried with no tenant in context."""


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


class TenantScoped:
    """Mixin for tenant-owned tables: tenant_id leads the primary key."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, sort_order=-100)


class Identified:
    """A random UUID id, second in the key after tenant_id: (tenant_id, id)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, sort_order=-90)


def tenant_tables() -> list[str]:
    """Names of every tenant-owned table (row-level security covers each)."""
    return sorted(
        str(getattr(mapper.class_, "__tablename__"))  # noqa: B009 - mixins do not declare it
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    )


class PraxisSession(Session):
    """The sync session under AsyncSession; carries the tenant in ``info``."""


def session_tenant(session: Session) -> uuid.UUID | None:
    tenant_id: uuid.UUID | None = session.info.get("tenant_id")
    return tenant_id


def _touches_tenant_table(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, TenantScoped) for m in state.all_mappers)


@event.listens_for(PraxisSession, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load:
        return  # the parent statement already carries the criteria
    if state.execution_options.get(PLATFORM_SCOPE):
        return
    if not _touches_tenant_table(state):
        return
    tenant_id = session_tenant(state.session)
    if tenant_id is None:
        raise TenantContextMissing("a tenant-owned table was queried without a tenant")
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantScoped,
                lambda cls: cls.tenant_id == tenant_id,
                include_aliases=True,
            )
        )


@event.listens_for(PraxisSession, "before_flush")
def _stamp_tenant(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        tenant_id = session_tenant(session)
        if tenant_id is None:
            raise TenantContextMissing("a tenant-owned row was written without a tenant")
        if obj.tenant_id is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise TenantContextMissing("a row of another tenant was written")


@event.listens_for(PraxisSession, "after_begin")
def _set_rls_tenant(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant_id = session_tenant(session)
    connection.execute(
        text("SELECT set_config('app.tenant_id', :tenant, true)"),
        {"tenant": str(tenant_id) if tenant_id else ""},
    )


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=settings.database_pool_size)
        _configure_sqlite(engine)
    else:
        engine = create_async_engine(
            url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size,
            pool_pre_ping=True,
        )
        if settings.database_role:
            _set_role_on_connect(engine, settings.database_role)
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


def enter_write_mode(session: AsyncSession) -> None:
    """From the next transaction on, take SQLite's write lock at BEGIN."""
    sync = session.sync_session
    sync.execution_options = sync.execution_options.union({WRITE_OPTION: True})


class Database:
    """The engine plus factories for tenant and platform sessions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def session(self, tenant_id: uuid.UUID | None = None, *, write: bool = False) -> AsyncSession:
        return AsyncSession(
            self.engine,
            sync_session_class=PraxisSession,
            expire_on_commit=False,
            info={"tenant_id": tenant_id},
            execution_options={WRITE_OPTION: True} if write else {},
        )

    @asynccontextmanager
    async def reading(self, tenant_id: uuid.UUID | None = None) -> AsyncIterator[AsyncSession]:
        async with self.session(tenant_id) as db:
            yield db

    @asynccontextmanager
    async def writing(self, tenant_id: uuid.UUID | None = None) -> AsyncIterator[AsyncSession]:
        """A session whose transaction takes the write lock at BEGIN (SQLite)."""
        async with self.session(tenant_id, write=True) as db:
            yield db

    async def dispose(self) -> None:
        await self.engine.dispose()
