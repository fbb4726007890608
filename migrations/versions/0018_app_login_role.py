"""The database role RLS really binds: the app signs in as its own role, which owns nothing and
can become no other, so an injected ``RESET ROLE`` gains nothing. A purged clinic's ledger is
deleted by a narrow function that runs as the retention role (the app can no longer SET it).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

from praxis.migrations.security import app_role

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Kept in step with 0010 and praxis.core.tenancy.rls.PURGE_LEDGER.
RETENTION_ROLE = "praxis_retention"
FUNCTION = "praxis_purge_ledger(uuid)"

# Runs as the retention role (SECURITY DEFINER), under the transaction's tenant (row-level
# security still applies), and only for a clinic already marked purged.
PURGE_LEDGER = """
CREATE OR REPLACE FUNCTION praxis_purge_ledger(clinic uuid)
RETURNS TABLE (events bigint, heads bigint, checkpoints bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE e bigint; h bigint; c bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM tenants WHERE id = clinic AND status = 'purged') THEN
    RAISE EXCEPTION 'only a purged clinic''s ledger may be deleted';
  END IF;
  DELETE FROM ledger_events WHERE tenant_id = clinic;
  GET DIAGNOSTICS e = ROW_COUNT;
  DELETE FROM ledger_heads WHERE tenant_id = clinic;
  GET DIAGNOSTICS h = ROW_COUNT;
  DELETE FROM ledger_checkpoints WHERE tenant_id = clinic;
  GET DIAGNOSTICS c = ROW_COUNT;
  RETURN QUERY SELECT e, h, c;
END $$
"""


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    role = app_role()
    # Created NOLOGIN by 0001 (no superuser, no BYPASSRLS, member of no role): it now signs in
    # itself. NOINHERIT: were it ever granted a role, it would not silently hold its rights.
    op.execute(f"ALTER ROLE {role} WITH LOGIN NOINHERIT")
    op.execute(f"GRANT SELECT (id, status) ON tenants TO {RETENTION_ROLE}")
    op.execute(PURGE_LEDGER)
    # The new owner needs CREATE on the schema only for the hand-over.
    op.execute(f"GRANT CREATE ON SCHEMA public TO {RETENTION_ROLE}")
    op.execute(f"ALTER FUNCTION {FUNCTION} OWNER TO {RETENTION_ROLE}")
    op.execute(f"REVOKE CREATE ON SCHEMA public FROM {RETENTION_ROLE}")
    op.execute(f"REVOKE ALL ON FUNCTION {FUNCTION} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {FUNCTION} TO {role}, CURRENT_USER")


def downgrade() -> None:
    if not _postgres():
        return
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}")
    op.execute(f"REVOKE SELECT (id, status) ON tenants FROM {RETENTION_ROLE}")
    # The role is cluster-wide: another database at this revision may be signed in as it, so
    # it keeps LOGIN (as 0001's downgrade keeps the role itself).
