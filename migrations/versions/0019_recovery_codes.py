"""recovery codes: one-time codes for two-step sign-in, kept as SHA-256 digests

Revision ID: 0019
Revises: 0024
Create Date: 2026-12-07 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0024"
branch_labels = None
depends_on = None

# A column on tables that already have their row-level security and grants.
TABLES = ["users", "operators"]


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("recovery_codes", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("recovery_codes")
