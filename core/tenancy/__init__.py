"""The tenant wall: one package, one way through.

- ``TenantScoped`` marks a tenant-owned table (``tenant_id`` leads its key); ``TenantTagged`` a
  platform table whose rows each belong to one tenant (the outbox's jobs).
- ``Database`` makes sessions that each belong to one tenant, or visibly to the platform.
  Every ORM statement through them is narrowed to that tenant, or raises (``filter.py``);
  their raw connection is refused.
- ``TenantStatement`` (``select_rows``, ``insert_rows``, ``update_rows``, ``delete_rows``,
  ``narrowed``) is the hot paths' prebuilt statement, narrowed when it is built; ``run``
  alone executes it.
- On PostgreSQL, row-level security is the second wall (``rls.py``).
"""

from praxis.core.tenancy import filter as _filter  # noqa: F401  (registers the ORM filter)
from praxis.core.tenancy import rls as _rls  # noqa: F401  (sets the tenant for RLS)
from praxis.core.tenancy.errors import (
    RawConnectionRefused,
    TenantContextMissing,
    UnfilterableStatement,
)
from praxis.core.tenancy.registry import (
    TenantScoped,
    TenantTagged,
    tagged_tables,
    tenant_tables,
    walled_tables_in,
)
from praxis.core.tenancy.sessions import (
    PLATFORM_SCOPE,
    Database,
    PraxisSession,
    WalledSession,
    session_tenant,
)
from praxis.core.tenancy.statements import (
    TenantStatement,
    delete_rows,
    insert_rows,
    narrowed,
    run,
    select_rows,
    update_rows,
)

__all__ = [
    "PLATFORM_SCOPE",
    "Database",
    "PraxisSession",
    "RawConnectionRefused",
    "TenantContextMissing",
    "TenantScoped",
    "TenantStatement",
    "TenantTagged",
    "UnfilterableStatement",
    "WalledSession",
    "delete_rows",
    "insert_rows",
    "narrowed",
    "run",
    "select_rows",
    "session_tenant",
    "tagged_tables",
    "tenant_tables",
    "update_rows",
    "walled_tables_in",
]
