"""Download my data (P31, P34): each archive a person asks for, and its sealed chunks, kept
until the link expires; both behind the tenant wall.

Revision ID: 0007
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from praxis.migrations.security import fix_tenant, grant_tables, isolate_tenants

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ["data_exports", "data_export_chunks"]


def upgrade() -> None:
    op.create_table(
        "data_exports",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_data_exports_tenant_id_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_data_exports")),
    )
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_data_exports_tenant_id_user_id_requested_at"),
            ["tenant_id", "user_id", "requested_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_data_exports_tenant_id_expires_at"),
            ["tenant_id", "expires_at"],
            unique=False,
        )
    op.create_table(
        "data_export_chunks",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("export_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "export_id"],
            ["data_exports.tenant_id", "data_exports.id"],
            name=op.f("fk_data_export_chunks_tenant_id_export_id_data_exports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "export_id", "n", name=op.f("pk_data_export_chunks")),
    )
    isolate_tenants(TABLES)
    grant_tables(TABLES)
    fix_tenant(TABLES)


def downgrade() -> None:
    # The tables' triggers go with them; the shared trigger function stays for the others.
    op.drop_table("data_export_chunks")
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_exports_tenant_id_expires_at"))
        batch_op.drop_index(batch_op.f("ix_data_exports_tenant_id_user_id_requested_at"))
    op.drop_table("data_exports")
