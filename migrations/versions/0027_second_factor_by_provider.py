"""sessions remember when the sign-in provider, not our authenticator, gave the second factor

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 06:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# A column on tables that already have their row-level security and grants.
TABLES = ["user_sessions", "operator_sessions"]
COLUMN = "second_factor_by_provider"


def upgrade() -> None:
    for table in TABLES:
        # Sessions already open were signed in before anyone remembered this: false for them.
        op.add_column(
            table, sa.Column(COLUMN, sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column(COLUMN)
