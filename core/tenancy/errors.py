"""What the tenant wall raises: each names the way that is allowed instead."""

from __future__ import annotations


class TenantContextMissing(RuntimeError):
    """A tenant-owned table was reached with no tenant in context."""


class UnfilterableStatement(TenantContextMissing):
    """A statement reaches a tenant table in a way the wall cannot narrow.

    Plain Core tables, text and INSERT statements are not narrowed by the ORM filter: use
    the model (``db.add``, ``select(Model)``), a ``TenantStatement`` through ``run``, or, where
    reading across tenants is the point, ``platform_scope``.
    """


class RawConnectionRefused(TenantContextMissing):
    """A session's raw connection bypasses the wall: ``praxis.core.tenancy.run`` it instead."""
