"""Analytics a clinic can switch on (P08): the clinic's switch, and visits counted per day and
page for visitors who accepted analytics cookies (no visitor is stored, only totals).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from praxis.migrations.security import fix_tenant, grant_tables, isolate_tenants, unfix_tenant

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLE = "visit_counts"
TABLES = [TABLE]


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("count_visits", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "day", "path", name=op.f(f"pk_{TABLE}")),
    )
    isolate_tenants(TABLES)
    grant_tables(TABLES)
    fix_tenant(TABLES)


def downgrade() -> None:
    unfix_tenant(TABLES, drop_function=False)
    op.drop_table(TABLE)
    op.execute("ALTER TABLE tenants DROP COLUMN count_visits")  # SQLite 3.35+, as 0010
