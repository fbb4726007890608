"""Staff roles: the front desk role, and more than one role per person in a clinic.

``users.extra_roles`` holds the roles beside the primary ``users.role`` (space-separated);
no new table, so every existing query on ``role`` keeps its meaning.

Revision ID: 0025
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("extra_roles", sa.String(length=64), server_default="", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("extra_roles")
