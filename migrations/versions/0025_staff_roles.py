"""Staff roles and the front desk: the front desk role and more than one role per person in a
clinic, and the link that lets a patient claim the record the front desk keeps for them.

``users.extra_roles`` holds the roles beside the primary ``users.role`` (space-separated);
no roles table, so every existing query on ``role`` keeps its meaning. ``patient_claims``
holds only each link token's SHA-256.

Revision ID: 0025
Revises: 0022
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

revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None

TABLE = "patient_claims"
TABLES = [TABLE]
INDEXES = (("token_hash",), ("user_id",))


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("extra_roles", sa.String(length=64), server_default="", nullable=False),
    )
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f(f"fk_{TABLE}_tenant_id_user_id_users"),
            ondelete="CASCADE",
        ),
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
    op.execute("ALTER TABLE users DROP COLUMN extra_roles")  # SQLite 3.35+, as 0010
