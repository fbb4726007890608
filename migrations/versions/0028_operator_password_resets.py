"""operators can reset a forgotten password: single-use links, kept hashed

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from praxis.migrations.security import grant_tables

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

TABLE = "operator_password_resets"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_password_resets_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_operator_password_resets_token_hash")),
    )
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_operator_password_resets_operator_id_created_at"),
            ["operator_id", "created_at"],
            unique=False,
        )
    # A platform table like operator_sessions: no tenant, so no row-level isolation.
    grant_tables([TABLE])


def downgrade() -> None:
    op.drop_table(TABLE)
