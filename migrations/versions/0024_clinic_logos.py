"""A clinic's logo, uploaded by its admins: the PNG made of the upload.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from praxis.migrations.security import fix_tenant, grant_tables, isolate_tenants, unfix_tenant

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TABLE = "clinic_logos"
TABLES = [TABLE]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f(f"pk_{TABLE}")),
    )
    isolate_tenants(TABLES)
    grant_tables(TABLES)
    fix_tenant(TABLES)


def downgrade() -> None:
    unfix_tenant(TABLES, drop_function=False)
    op.drop_table(TABLE)
