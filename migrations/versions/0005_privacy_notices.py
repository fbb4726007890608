"""Each clinic's privacy notice, version by version, and which version each consumer
acknowledged (P37); both behind the tenant wall.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from praxis.migrations.security import fix_tenant, grant_tables, isolate_tenants

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ["privacy_notices", "privacy_notice_acknowledgements"]


def upgrade() -> None:
    op.create_table(
        "privacy_notices",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "snapshot",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_privacy_notices")),
        sa.UniqueConstraint(
            "tenant_id", "version", name=op.f("uq_privacy_notices_tenant_id_version")
        ),
    )
    op.create_table(
        "privacy_notice_acknowledgements",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_privacy_notice_acknowledgements_tenant_id_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "user_id", "version", name=op.f("pk_privacy_notice_acknowledgements")
        ),
    )
    with op.batch_alter_table("privacy_notice_acknowledgements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_privacy_notice_acknowledgements_tenant_id_version"),
            ["tenant_id", "version"],
            unique=False,
        )
    isolate_tenants(TABLES)
    grant_tables(TABLES)
    fix_tenant(TABLES)


def downgrade() -> None:
    # Dropping a table drops its triggers, policies and grants; the shared trigger function
    # stays for the tables of 0003.
    with op.batch_alter_table("privacy_notice_acknowledgements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_notice_acknowledgements_tenant_id_version"))
    op.drop_table("privacy_notice_acknowledgements")
    op.drop_table("privacy_notices")
