"""PostgreSQL's second wall: row-level security sees the session's tenant, set per transaction.

Migrations (``praxis.migrations.security``) create the policies; this sets what they compare
with. A platform session sets nothing, which the policies read as no tenant: it sees no
tenant's rows (the outbox's jobs aside, which hold ids only and which workers claim across
tenants).
"""

from __future__ import annotations

import re

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from praxis.core.tenancy.sessions import PLATFORM_SCOPE, PraxisSession, session_tenant

SETTING = "app.tenant_id"
# What the policies compare tenant_id with: the transaction's tenant, NULL when none is set.
CURRENT_TENANT_SQL = f"NULLIF(current_setting('{SETTING}', true), '')::uuid"
_SET = text(f"SELECT set_config('{SETTING}', :tenant, true)")


@event.listens_for(PraxisSession, "after_begin")
def _set_rls_tenant(session: Session, tx: SessionTransaction, connection: Connection) -> None:
    if connection.dialect.name != "postgresql" or tx.nested:
        return  # a savepoint is inside a transaction that already has its tenant set
    tenant_id = session_tenant(session)
    connection.execute(_SET, {"tenant": str(tenant_id) if tenant_id else ""})


_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


async def act_as(db: AsyncSession, role: str) -> None:
    """For the rest of this transaction, act as ``role`` (a narrowly granted one, such as the
    retention role that may delete a purged clinic's ledger); the tenant set stays, so
    row-level security still holds. The connection's own role returns at commit."""
    if not _ROLE_NAME.match(role):
        raise ValueError("a role name is lower-case letters, digits and underscores")
    await db.execute(text(f'SET LOCAL ROLE "{role}"'), execution_options={PLATFORM_SCOPE: True})
