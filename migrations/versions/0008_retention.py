"""Closing and erasing accounts, legal holds and restriction of processing: when an account
closed (the retention clock) and was erased, what pauses retention, whose data is restricted
(``users.restricted_at``).

Revision ID: 0008
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from praxis.migrations.security import fix_tenant, grant_tables, isolate_tenants, unfix_tenant

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ["account_closures", "legal_holds"]


def upgrade() -> None:
    op.create_table(
        "account_closures",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("erase_requested", sa.Boolean(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_account_closures_tenant_id_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name=op.f("pk_account_closures")),
    )
    with op.batch_alter_table("account_closures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_closures_tenant_id_erased_at_closed_at"),
            ["tenant_id", "erased_at", "closed_at"],
            unique=False,
        )
    op.create_table(
        "legal_holds",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("placed_by", sa.Uuid(), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legal_holds_tenant_id_lifted_at_subject_id"),
            ["tenant_id", "lifted_at", "subject_id"],
            unique=False,
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("restricted_at", sa.DateTime(timezone=True), nullable=True))
    isolate_tenants(TABLES)
    grant_tables(TABLES)
    fix_tenant(TABLES)


def downgrade() -> None:
    # Dropping a table drops its trigger and policy; the shared trigger function stays (0003's).
    unfix_tenant(TABLES, drop_function=False)
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of users would lose its trigger.
    op.execute("ALTER TABLE users DROP COLUMN restricted_at")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_holds_tenant_id_lifted_at_subject_id"))
    op.drop_table("legal_holds")
    with op.batch_alter_table("account_closures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_closures_tenant_id_erased_at_closed_at"))
    op.drop_table("account_closures")
