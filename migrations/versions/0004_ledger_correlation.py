"""A lost answer is settled by a later attempt: the ledger finds a call's attempts by its
correlation id (the job's idempotency key).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_events_tenant_id_correlation_id"),
            ["tenant_id", "correlation_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_events_tenant_id_correlation_id"))
