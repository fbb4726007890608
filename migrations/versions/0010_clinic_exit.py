"""A clinic that leaves the platform (P29): the operator's record of the exit, the day sign-in
closes, the platform's record of each purge, and a narrow retention role on PostgreSQL that
may delete a purged clinic's ledger (the app role may only read and append to it).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from praxis.core.db import JSONDocument
from praxis.migrations.security import grant_tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ["tenant_exits", "tenant_purges"]
# Kept in step with praxis.core.privacy.exit.RETENTION_ROLE (migrations import no services).
RETENTION_ROLE = "praxis_retention"
LEDGER_TABLES = ["ledger_events", "ledger_heads"]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "tenant_exits",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("leaves_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("started_by", sa.Uuid(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_exits")),
    )
    op.create_table(
        "tenant_purges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("counts", JSONDocument, nullable=False),
        sa.Column("chain_head", sa.String(length=64), nullable=False),
        sa.Column("chain_length", sa.Integer(), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_purges")),
    )
    # A plain ADD COLUMN: a batch copy of tenants would lose the foreign keys pointing at it.
    op.add_column("tenants", sa.Column("leaves_on", sa.Date(), nullable=True))
    grant_tables(TABLES)
    if _postgres():
        # Login-less, no BYPASSRLS: it deletes one tenant's ledger rows, inside that tenant's
        # transaction, and nothing else. Only the purge SETs it, for its last statements.
        op.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{RETENTION_ROLE}')"
            f" THEN CREATE ROLE {RETENTION_ROLE} NOLOGIN NOBYPASSRLS; END IF; END $$"
        )
        op.execute(f"GRANT {RETENTION_ROLE} TO CURRENT_USER")
        op.execute(f"GRANT USAGE ON SCHEMA public TO {RETENTION_ROLE}")
        for table in LEDGER_TABLES:
            op.execute(f"GRANT SELECT, DELETE ON {table} TO {RETENTION_ROLE}")


def downgrade() -> None:
    if _postgres():
        for table in LEDGER_TABLES:
            op.execute(f"REVOKE SELECT, DELETE ON {table} FROM {RETENTION_ROLE}")
        op.execute(f"REVOKE USAGE ON SCHEMA public FROM {RETENTION_ROLE}")
        # The role is cluster-wide (another database may use it): it stays, as the app role does.
    op.execute("ALTER TABLE tenants DROP COLUMN leaves_on")
    op.drop_table("tenant_purges")
    op.drop_table("tenant_exits")
