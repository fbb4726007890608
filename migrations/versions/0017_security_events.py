"""The clinic's security log (sign-ins, failures, lockouts, two-step sign-in, password resets,
signing out everywhere): one row per event, the account by id only.

Revision ID: 0017
Revises: 0015
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

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLE = "security_events"
TABLES = [TABLE]
INDEXES = (("at",), ("user_id", "at"))


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{TABLE}")),
    )
    create_tenant_indexes(TABLE, INDEXES)
    isolate_tenants(TABLES)
    grant_tables(TABLES, "SELECT, INSERT, DELETE")  # append-only for the app; retention deletes
    fix_tenant(TABLES)


def downgrade() -> None:
    unfix_tenant(TABLES, drop_function=False)
    drop_tenant_indexes(TABLE, INDEXES)
    op.drop_table(TABLE)
