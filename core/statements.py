"""Prebuilt Core statements for the hot paths, narrowed to the session's tenant or refused.

The ORM filter in ``core.db`` gives every statement its tenant option anew on each
execution, and rebuilding and re-keying the statement costs more than the database's own
work on a booking or a webhook. A statement run here is built once, at import, with
``tenant_id = :current_tenant_id`` (``TENANT``) on every tenant table it reads or changes,
at the top of its WHERE clause. ``run`` checks that once per statement, binds the session's
own tenant every time and fills it into the rows an INSERT writes (which it is given, never
written into the statement), so a forgotten or foreign tenant fails closed here as it does
through the ORM.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Column,
    CompoundSelect,
    CursorResult,
    Executable,
    Insert,
    Update,
    bindparam,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BooleanClauseList, ClauseElement

from praxis.core.db import (
    TenantContextMissing,
    UnfilterableStatement,
    _tenant_tables_in,
    session_tenant,
)

TENANT_KEY = "current_tenant_id"  # not "tenant_id": an UPDATE may not bind a column's name
TENANT: BindParameter[Any] = bindparam(TENANT_KEY)  # each tenant table's tenant_id = this
COLUMN = "tenant_id"
Rows = Mapping[str, Any] | Sequence[Mapping[str, Any]]

_checked: weakref.WeakSet[Executable] = weakref.WeakSet()  # statements found narrowed


def _conjuncts(clause: ClauseElement | None) -> list[ClauseElement]:
    if clause is None:
        return []
    if isinstance(clause, BooleanClauseList) and clause.operator is operators.and_:
        return [part for inner in clause.clauses for part in _conjuncts(inner)]
    return [clause]


def _narrowed_tables(statement: Any) -> set[str]:
    found: set[str] = set()
    for clause in _conjuncts(getattr(statement, "whereclause", None)):
        if not isinstance(clause, BinaryExpression) or clause.operator is not operators.eq:
            continue
        left, right = clause.left, clause.right
        if (
            isinstance(left, Column)
            and left.name == COLUMN
            and isinstance(right, BindParameter)
            and right.key == TENANT_KEY
            and left.table is not None
        ):
            found.add(str(left.table.name))
    return found


def check(statement: Executable) -> None:
    """Raise unless every tenant table the statement reaches is narrowed to ``TENANT``
    (an INSERT may reach only the table it writes)."""
    if isinstance(statement, CompoundSelect):  # UNION and the like: each part on its own
        for part in statement.selects:
            check(cast(Executable, part))
        return
    tables = set(_tenant_tables_in(statement))
    if isinstance(statement, Insert):
        inline = statement._values or statement._multi_values
        if inline or statement._select_names is not None or tables - {statement.table.name}:
            raise UnfilterableStatement("an INSERT here writes rows given to it, nothing else")
        return
    if isinstance(statement, Update) and any(
        getattr(column, "key", column) == COLUMN for column in statement._values or {}
    ):
        raise UnfilterableStatement("an UPDATE may not move rows to another tenant")
    missing = tables - _narrowed_tables(statement)
    if missing:
        raise UnfilterableStatement(f"not narrowed to the tenant: {', '.join(sorted(missing))}")


def _own(row: Mapping[str, Any], tenant_id: uuid.UUID) -> dict[str, Any]:
    given = row.get(COLUMN, tenant_id)
    if given != tenant_id:
        raise TenantContextMissing("a row of another tenant was written")
    return {**row, COLUMN: tenant_id}


async def run(db: AsyncSession, statement: Executable, rows: Rows | None = None) -> Any:
    """Execute ``statement`` in the session's transaction, inside the session's tenant.

    ``rows`` are an INSERT's rows (one mapping, or a list for executemany), or the other
    statements' parameters; ``tenant_id`` is always the session's.
    """
    tenant_id = session_tenant(db.sync_session)
    if tenant_id is None:
        raise TenantContextMissing("a tenant statement was run without a tenant")
    if statement not in _checked:
        check(statement)
        _checked.add(statement)
    params: Any
    if isinstance(statement, Insert):
        if isinstance(rows, Mapping):
            params = _own(rows, tenant_id)
        else:
            params = [_own(row, tenant_id) for row in rows or ()]
    else:
        given = rows if isinstance(rows, Mapping) else {}
        params = {**given, TENANT_KEY: tenant_id}
    connection = await db.connection()
    result: CursorResult[Any] = await connection.execute(statement, params)
    return result
