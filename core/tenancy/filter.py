"""The ORM half of the wall: every statement through a session stays inside its tenant.

ORM statements get ``tenant_id = :current`` on every tenant entity they mention (top level,
joins, subqueries, UPDATE and DELETE); rows the unit of work writes are stamped with the
session's tenant, and a row of another tenant raises. What the filter cannot narrow (Core
tables, text, INSERT statements) raises instead of leaking: the hot paths use a
``TenantStatement`` (``statements.py``), platform code opts out with ``platform_scope``.
A row can never move to another tenant: ``tenant_id`` is immutable in the database itself
(a trigger on SQLite, row-level security's WITH CHECK on PostgreSQL).
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import FromStatement, ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect

from praxis.core.tenancy.errors import TenantContextMissing, UnfilterableStatement
from praxis.core.tenancy.registry import (
    TenantScoped,
    TenantTagged,
    is_walled,
    walled_tables_in,
)
from praxis.core.tenancy.sessions import PLATFORM_SCOPE, PraxisSession, session_tenant


@functools.lru_cache(maxsize=4096)
def _criteria(tenant_id: uuid.UUID) -> tuple[Any, Any]:
    """The options for one tenant, reused: building them anew for every statement costs ~50 µs."""
    return (
        with_loader_criteria(
            TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
        ),
        with_loader_criteria(
            TenantTagged, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
        ),
    )


def _walled_mapper(state: ORMExecuteState) -> bool:
    return any(is_walled(mapper.class_) for mapper in state.all_mappers)


def _textual(statement: Any) -> bool:
    return isinstance(statement, TextClause | TextualSelect | FromStatement)


@event.listens_for(PraxisSession, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load:
        return  # the parent statement already carries the criteria
    if state.execution_options.get(PLATFORM_SCOPE):
        return
    statement = state.statement
    if _textual(statement):
        raise UnfilterableStatement(
            "text cannot be narrowed to a tenant: use the models, or platform_scope"
        )
    tenant_id = session_tenant(state.session)
    if tenant_id is None:
        if _walled_mapper(state) or walled_tables_in(statement):
            raise TenantContextMissing("a tenant-owned table was queried without a tenant")
        return
    if not state.is_orm_statement:
        if walled_tables_in(statement):
            raise UnfilterableStatement(
                "a tenant table was used without its ORM entity: use the model, or a "
                "TenantStatement through praxis.core.tenancy.run"
            )
        return
    if state.is_insert and (_walled_mapper(state) or walled_tables_in(statement)):
        raise UnfilterableStatement("add rows with db.add(), or a TenantStatement insert")
    if isinstance(state.parameters, list):  # bulk by primary key: the key names its tenant
        _own_keys(state.parameters, tenant_id)
    state.statement = statement.options(*_criteria(tenant_id))


def _own_keys(rows: list[Any], tenant_id: uuid.UUID) -> None:
    for row in rows:
        if row.get("tenant_id") != tenant_id:
            raise TenantContextMissing("a bulk change named a row of another tenant")


@event.listens_for(PraxisSession, "before_flush")
def _stamp_tenant(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.new) + list(session.dirty):
        if not is_walled(type(obj)):
            continue
        tenant_id = session_tenant(session)
        if tenant_id is None:
            if isinstance(obj, TenantTagged) and getattr(obj, "tenant_id", None) is not None:
                continue  # platform code writing a job for a named tenant
            raise TenantContextMissing("a tenant-owned row was written without a tenant")
        current = getattr(obj, "tenant_id", None)
        if current is None:
            obj.tenant_id = tenant_id
        elif current != tenant_id:
            raise TenantContextMissing("a row of another tenant was written")
