"""Prebuilt statements for the hot paths, narrowed to the tenant when they are built.

The ORM filter narrows a statement anew each time it runs, and on the hottest paths
(booking, a paid checkout, the ledger) rebuilding and re-keying it costs more than the
database's own work. A ``TenantStatement`` is built once, at import, by the builders below,
which accept nothing that reaches a tenant table except through ``narrowed(table)`` (that
table's rows of the current tenant) or, for a change, through the one table it changes,
narrowed by the builder itself. ``run`` executes nothing else: it binds the session's own
tenant each time, fills it into an INSERT's rows and refuses a row of another tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    CursorResult,
    Select,
    Subquery,
    Table,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import SelectBase

from praxis.core.tenancy.errors import TenantContextMissing, UnfilterableStatement
from praxis.core.tenancy.registry import walled_table_names
from praxis.core.tenancy.sessions import WalledSession, session_tenant

TENANT_KEY = "current_tenant_id"  # not "tenant_id": an UPDATE may not bind a column's name
COLUMN = "tenant_id"
Rows = Mapping[str, Any] | Sequence[Mapping[str, Any]]

_TENANT: BindParameter[Any] = bindparam(TENANT_KEY)
_NARROWED: dict[int, Subquery] = {}  # every narrowed(), kept alive so ids stay unique
_BUILDER = object()


class TenantStatement:
    """A statement narrowed to the current tenant when it was built; only ``run`` runs it."""

    __slots__ = ("inserts_into", "statement")

    def __init__(
        self, statement: Any, *, inserts_into: Table | None = None, _made_by: object = None
    ) -> None:
        if _made_by is not _BUILDER:
            raise TypeError(
                "build a TenantStatement with select_rows, insert_rows, update_rows or "
                "delete_rows from praxis.core.tenancy"
            )
        self.statement = statement
        self.inserts_into = inserts_into


def _walled(table: Table) -> Table:
    if table.name not in walled_table_names():
        raise ValueError(f"{table.name} is not a tenant table: use plain SQLAlchemy for it")
    return table


def narrowed(table: Table) -> Subquery:
    """The tenant table's rows of the current tenant only, under the table's own name."""
    subquery = select(_walled(table)).where(table.c[COLUMN] == _TENANT).subquery(table.name)
    _NARROWED[id(subquery)] = subquery
    return subquery


def _reached(element: ClauseElement, changed: Table | None) -> Iterator[str]:
    """Tenant tables ``element`` reaches other than through ``narrowed``; ``changed`` (the
    table an UPDATE or DELETE changes, narrowed by its builder) only by its own columns."""
    names = walled_table_names()
    stack: list[tuple[Any, Table | None]] = [(element, changed)]
    while stack:
        node, own = stack.pop()
        if id(node) in _NARROWED:
            continue
        table = node if isinstance(node, Table) else getattr(node, "table", None)
        if isinstance(table, Table) and table.name in names and table is not own:
            yield table.name
        inner = None if isinstance(node, SelectBase) else own  # a subquery reads, raw
        stack.extend((child, inner) for child in node.get_children())


def _refuse_raw(element: ClauseElement, changed: Table | None = None) -> None:
    raw = sorted(set(_reached(element, changed)))
    if raw:
        raise UnfilterableStatement(
            f"not narrowed to the tenant: {', '.join(raw)} (read it through narrowed())"
        )


def select_rows(statement: Select[Any] | CompoundSelect[Any]) -> TenantStatement:
    """A SELECT (or UNION) that reads tenant tables only through ``narrowed``."""
    _refuse_raw(statement)
    return TenantStatement(statement, _made_by=_BUILDER)


def insert_rows(table: Table) -> TenantStatement:
    """An INSERT of the rows ``run`` is given, each stamped with the session's tenant."""
    return TenantStatement(insert(_walled(table)), inserts_into=table, _made_by=_BUILDER)


def update_rows(
    table: Table,
    *,
    where: Sequence[ColumnElement[bool]],
    values: Mapping[str, Any],
    returning: Sequence[ColumnElement[Any]] = (),
) -> TenantStatement:
    """UPDATE the tenant's rows of ``table`` that match ``where``; never their tenant."""
    if COLUMN in values:
        raise UnfilterableStatement("an UPDATE may not move rows to another tenant")
    for part in (*where, *returning, *(v for v in values.values() if isinstance(v, ClauseElement))):
        _refuse_raw(part, _walled(table))
    statement = update(table).where(table.c[COLUMN] == _TENANT, *where).values(**values)
    return TenantStatement(
        statement.returning(*returning) if returning else statement, _made_by=_BUILDER
    )


def delete_rows(table: Table, *, where: Sequence[ColumnElement[bool]]) -> TenantStatement:
    """DELETE the tenant's rows of ``table`` that match ``where``."""
    for part in where:
        _refuse_raw(part, _walled(table))
    statement = delete(table).where(table.c[COLUMN] == _TENANT, *where)
    return TenantStatement(statement, _made_by=_BUILDER)


def _own(row: Mapping[str, Any], tenant_id: uuid.UUID) -> dict[str, Any]:
    if row.get(COLUMN, tenant_id) != tenant_id:
        raise TenantContextMissing("a row of another tenant was written")
    return {**row, COLUMN: tenant_id}


async def run(
    db: AsyncSession, statement: TenantStatement, rows: Rows | None = None
) -> CursorResult[Any]:
    """Execute ``statement`` in the session's transaction, inside the session's tenant.

    ``rows`` are an INSERT's rows (one mapping, or a list for executemany), or the other
    statements' parameters; ``tenant_id`` is always the session's.
    """
    if not isinstance(statement, TenantStatement):
        raise TypeError("run() executes only a TenantStatement (see praxis.core.tenancy)")
    if not isinstance(db, WalledSession):
        raise TypeError("run() needs a session made by praxis.core.tenancy.Database")
    tenant_id = session_tenant(db.sync_session)
    if tenant_id is None:
        raise TenantContextMissing("a tenant statement was run without a tenant")
    params: Any
    if statement.inserts_into is not None:
        if isinstance(rows, Mapping):
            params = _own(rows, tenant_id)
        else:
            params = [_own(row, tenant_id) for row in rows or ()]
    else:
        given = rows if isinstance(rows, Mapping) else {}
        params = {**given, TENANT_KEY: tenant_id}
    connection = await db._walled_connection()
    result: CursorResult[Any] = await connection.execute(statement.statement, params)
    return result
