"""Marketing-only subscribers without an account: where they are reached (their consents are
consent records with an address and no account). Retention deletes them six months after
they stop everything (P17, P18, P28).

Revision ID: 0011
Revises: 0010
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

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLE = "marketing_subscribers"
TABLES = [TABLE]
INDEXES = (("email",), ("phone",))


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
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
