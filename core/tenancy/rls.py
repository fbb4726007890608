"""PostgreSQL's second wall: row-level security sees the session's tenant, set per transaction.

Migrations (``praxis.migrations.security``) create the policies; this sets what they compare
with. A platform session sets nothing, which the policies read as no tenant: it sees no
tenant's rows (the outbox's jobs aside, which hold ids only and which workers claim across
tenants).
"""

from __future__ import annotations

import uuid

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


def enforced(db: AsyncSession) -> bool:
    """Does this session's database have the second wall (and the roles that go with it)?"""
    return db.get_bind().dialect.name == "postgresql"


PURGE_LEDGER = text("SELECT events, heads, checkpoints FROM praxis_purge_ledger(:tenant)")


async def purge_ledger(db: AsyncSession, tenant_id: uuid.UUID) -> dict[str, int]:
    """Delete a purged clinic's ledger, which the app's role may only read and append to:
    migration 0018's function does it as the retention role, for a clinic already marked
    purged and under the transaction's tenant. Rows deleted per ledger table."""
    row = (
        await db.execute(
            PURGE_LEDGER, {"tenant": tenant_id}, execution_options={PLATFORM_SCOPE: True}
        )
    ).one()
    return {
        "ledger_events": int(row.events),
        "ledger_heads": int(row.heads),
        "ledger_checkpoints": int(row.checkpoints),
    }
