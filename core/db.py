"""Engine, sessions, the declarative Base and the tenant wall that fails closed.

Every table a tenant owns mixes in ``TenantScoped``: ``tenant_id`` leads its
primary key, and every ORM statement on it is filtered to the session's tenant.
A session without a tenant that touches such a table raises; platform code opts
out visibly with ``execution_options(platform_scope=True)``. On PostgreSQL the
same tenant id is set for row-level security at the start of each transaction.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, Table, event, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    FromStatement,
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.sql import util as sql_util
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter, ClauseElement
from sqlalchemy.types import TypeDecorator

from praxis.core.config import Settings

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


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for writing rows without the unit of work on a hot path."""
    return Base.metadata.tables[model.__tablename__]


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


class UnfilterableStatement(TenantContextMissing):
    """A statement reaches a tenant table in a way the tenant filter cannot narrow.

    Plain Core tables and textual ``from_statement`` queries are not ORM entities, so
    ``with_loader_criteria`` never sees them; use the model, or opt out with
    ``platform_scope`` where reading across tenants is the point.
    """


_tenant_names: tuple[int, frozenset[str]] = (-1, frozenset())


def _tenant_table_names() -> frozenset[str]:
    """Names of the tenant tables, recomputed only when a mapper was added."""
    global _tenant_names
    count = len(Base.registry.mappers)
    if _tenant_names[0] != count:
        _tenant_names = (count, frozenset(tenant_tables()))
    return _tenant_names[1]


def _tenant_mapper(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, TenantScoped) for m in state.all_mappers)


def _tenant_tables_in(statement: Any) -> dict[str, Any]:
    """The tenant tables a statement reaches anywhere: FROM, joins, subqueries, columns, DML."""
    names = _tenant_table_names()
    found: dict[str, Any] = {}
    for element in visitors.iterate(statement):
        name = getattr(element, "name", None)
        if element.__visit_name__ == "table" and name in names:
            table: Any = element
            found.setdefault(str(name), table._deannotate())
    return found


def _filter_core_select(statement: Any, tables: dict[str, Any], tenant_id: uuid.UUID) -> Any:
    """A Core SELECT (no ORM entity, e.g. ``select(exists().where(...))``): every tenant
    table it reads, at any depth, is swapped for the same table narrowed to the tenant."""
    for name, table in tables.items():
        narrowed = select(table).where(table.c.tenant_id == tenant_id).subquery(name)
        statement = sql_util.ClauseAdapter(narrowed).traverse(statement)
    return statement


def _same_tenant(value: Any, tenant_id: uuid.UUID) -> bool:
    if isinstance(value, BindParameter):
        value = value.effective_value
    if isinstance(value, ClauseElement):
        return False  # an SQL expression: its value cannot be checked here
    try:
        return uuid.UUID(str(value)) == tenant_id
    except ValueError:
        return False


def _row_dicts(state: ORMExecuteState) -> list[dict[str, Any]]:
    """Every set of column values an INSERT or UPDATE writes, keyed by column name."""
    statement: Any = state.statement
    rows: list[dict[str, Any]] = []
    if statement._values:
        rows.append({str(getattr(k, "key", k)): v for k, v in statement._values.items()})
    columns = [c.key for c in statement.table.c]
    for multi in statement._multi_values:
        for row in multi:
            if isinstance(row, dict):
                rows.append({str(getattr(k, "key", k)): v for k, v in row.items()})
            else:
                rows.append(dict(zip(columns, row, strict=False)))
    params = state.parameters
    if isinstance(params, dict):
        rows.append(dict(params))
    elif isinstance(params, list):
        rows.extend(dict(p) for p in params)
    return rows


def _guard_writes(state: ORMExecuteState, tenant_id: uuid.UUID) -> None:
    """INSERT and UPDATE statements write only the session's tenant; INSERTs get it filled in."""
    statement: Any = state.statement
    if statement._select_names is not None:
        raise UnfilterableStatement("INSERT ... FROM SELECT into a tenant table is not filtered")
    rows = _row_dicts(state)
    for row in rows:
        if "tenant_id" in row and not _same_tenant(row["tenant_id"], tenant_id):
            raise TenantContextMissing("a row of another tenant was written")
    if not state.is_insert or (rows and all("tenant_id" in row for row in rows)):
        return
    params = state.parameters
    if isinstance(params, list) and params:
        state.parameters = [{**p, "tenant_id": p.get("tenant_id", tenant_id)} for p in params]
    elif isinstance(params, dict) and params:
        state.parameters = {**params, "tenant_id": params.get("tenant_id", tenant_id)}
    elif not statement._multi_values:
        state.statement = statement.values(tenant_id=tenant_id)
    else:
        raise TenantContextMissing("give tenant_id in every row of a multi-row INSERT")


def _filter_core(state: ORMExecuteState, tenant_id: uuid.UUID) -> None:
    """Statements without ORM entities: SELECTs are narrowed, INSERTs checked, the rest refused."""
    statement: Any = state.statement
    tables = _tenant_tables_in(statement)
    if not tables:
        return
    if state.is_select and not isinstance(statement, FromStatement):
        state.statement = _filter_core_select(statement, tables, tenant_id)
    elif state.is_insert and set(tables) == {statement.table.name}:
        _guard_writes(state, tenant_id)
    else:
        raise UnfilterableStatement("a tenant table was used without its ORM entity")


@functools.lru_cache(maxsize=4096)
def _tenant_criteria(tenant_id: uuid.UUID) -> Any:
    """One option per tenant, reused: building it anew for every statement costs ~50 µs."""
    return with_loader_criteria(
        TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
    )


@event.listens_for(PraxisSession, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    """Every statement through a session stays inside the session's tenant, or raises.

    ORM statements get ``tenant_id = :current`` on every tenant entity they mention
    (top level, joins, subqueries); INSERT and UPDATE may write only that tenant id.
    What the filter cannot narrow (plain tables, text) raises instead of leaking.
    """
    if state.is_column_load or state.is_relationship_load:
        return  # the parent statement already carries the criteria
    if state.execution_options.get(PLATFORM_SCOPE):
        return
    tenant_id = session_tenant(state.session)
    if tenant_id is None:
        if _tenant_mapper(state) or _tenant_tables_in(state.statement):
            raise TenantContextMissing("a tenant-owned table was queried without a tenant")
        return
    if not state.is_orm_statement or isinstance(state.statement, FromStatement):
        _filter_core(state, tenant_id)
        return
    if state.is_insert or state.is_update:
        _guard_writes(state, tenant_id)
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(_tenant_criteria(tenant_id))


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
def _set_rls_tenant(session: Session, tx: SessionTransaction, connection: Connection) -> None:
    if connection.dialect.name != "postgresql" or tx.nested:
        return  # a savepoint is inside a transaction that already has its tenant set
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
            # No pre-ping: on asyncpg it costs three round trips per checkout. Connections are
            # recycled instead, and one a restart broke is dropped when it first fails.
            pool_recycle=1800,
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
