"""The ledger cannot be rewritten unseen (P20): signed checkpoints of each clinic's chain head,
append-only for the app's role, and a head that only moves forward, on both backends.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from praxis.migrations.security import fix_tenant, grant_tables, isolate_tenants, unfix_tenant

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLE = "ledger_checkpoints"
TABLES = [TABLE]
# Kept in step with 0010 and praxis.core.privacy.exit.RETENTION_ROLE: a purge deletes them.
RETENTION_ROLE = "praxis_retention"
FORWARD = "ledger_heads_forward"
REFUSAL = "the ledger head only moves forward"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "number", name=op.f(f"pk_{TABLE}")),
    )
    isolate_tenants(TABLES)
    grant_tables(TABLES, "SELECT, INSERT")  # append-only: no UPDATE, no DELETE
    fix_tenant(TABLES)
    if _postgres():
        op.execute(f"GRANT SELECT, DELETE ON {TABLE} TO {RETENTION_ROLE}")
        op.execute(
            "CREATE OR REPLACE FUNCTION praxis_ledger_head_forward() RETURNS trigger AS $$ BEGIN "
            "IF NEW.last_seq < OLD.last_seq OR (NEW.last_seq = OLD.last_seq AND "
            f"NEW.last_hash IS DISTINCT FROM OLD.last_hash) THEN RAISE EXCEPTION '{REFUSAL}'; "
            "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {FORWARD} BEFORE UPDATE ON ledger_heads "
            "FOR EACH ROW EXECUTE FUNCTION praxis_ledger_head_forward()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {FORWARD} BEFORE UPDATE ON ledger_heads "
            "WHEN NEW.last_seq < OLD.last_seq OR "
            "(NEW.last_seq = OLD.last_seq AND NEW.last_hash IS NOT OLD.last_hash) "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        )


def downgrade() -> None:
    if _postgres():
        op.execute(f"DROP TRIGGER IF EXISTS {FORWARD} ON ledger_heads")
        op.execute("DROP FUNCTION IF EXISTS praxis_ledger_head_forward()")
        op.execute(f"REVOKE SELECT, DELETE ON {TABLE} FROM {RETENTION_ROLE}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {FORWARD}")
    unfix_tenant(TABLES, drop_function=False)
    op.drop_table(TABLE)
