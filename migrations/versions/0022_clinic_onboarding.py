"""Clinics onboarded and run from the browser: staff invitations (a single-use link, only its
hash stored), a custom domain's proof of control, the clinic's opt-in to the public directory
with the town it is listed under. A suspended clinic is a tenant status, no column.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from praxis.migrations.security import (
    create_tenant_indexes,
    drop_tenant_indexes,
    fix_tenant,
    grant_tables,
    isolate_tenants,
    unfix_tenant,
)

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLE = "staff_invitations"
TABLES = [TABLE]
INDEXES = (("token_hash",), ("email",))


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("listed", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "tenants", sa.Column("town", sa.String(length=100), server_default="", nullable=False)
    )
    op.add_column(
        "tenant_domains",
        sa.Column("proof", sa.String(length=64), server_default="", nullable=False),
    )
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{TABLE}")),
    )
    create_tenant_indexes(TABLE, INDEXES)
    isolate_tenants(TABLES)
    grant_tables(TABLES)
    fix_tenant(TABLES)


def downgrade() -> None:
    unfix_tenant(TABLES, drop_function=False)
    drop_tenant_indexes(TABLE, INDEXES)
    op.drop_table(TABLE)
    op.execute("ALTER TABLE tenant_domains DROP COLUMN proof")  # SQLite 3.35+, as 0010
    op.execute("ALTER TABLE tenants DROP COLUMN town")
    op.execute("ALTER TABLE tenants DROP COLUMN listed")
