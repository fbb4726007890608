"""Which tables sit behind the tenant wall, and how to tell a statement reaches one."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, Table
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import visitors

from praxis.core.db import Base


class TenantScoped:
    """Mixin for tenant-owned tables: tenant_id leads the primary key and every index."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, sort_order=-100)


class TenantTagged:
    """Mixin for a platform table whose rows each belong to one tenant (the outbox's jobs):
    inside a tenant's session it is narrowed like a tenant table; platform code that works
    across tenants (the worker) opts out visibly with ``platform_scope``."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))


def _names(mixin: type) -> list[str]:
    return sorted(
        str(getattr(mapper.class_, "__tablename__"))  # noqa: B009 - mixins do not declare it
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, mixin)
    )


def tenant_tables() -> list[str]:
    """Names of every tenant-owned table (row-level security covers each)."""
    return _names(TenantScoped)


def tagged_tables() -> list[str]:
    """Names of the platform tables whose rows each belong to one tenant."""
    return _names(TenantTagged)


_walled: tuple[int, frozenset[str]] = (-1, frozenset())


def walled_table_names() -> frozenset[str]:
    """Every table behind the wall, recomputed only when a mapper was added."""
    global _walled
    count = len(Base.registry.mappers)
    if _walled[0] != count:
        _walled = (count, frozenset(tenant_tables() + tagged_tables()))
    return _walled[1]


def is_walled(model: type) -> bool:
    return issubclass(model, TenantScoped | TenantTagged)


def walled_tables_in(statement: Any) -> dict[str, Table]:
    """The walled tables a statement reaches anywhere: FROM, joins, subqueries, columns, DML."""
    names = walled_table_names()
    found: dict[str, Table] = {}
    for element in visitors.iterate(statement):
        if isinstance(element, Table) and element.name in names:
            found.setdefault(element.name, element)
    return found
