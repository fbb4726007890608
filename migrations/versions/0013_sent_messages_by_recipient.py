"""The messages sent to one person are found by an index: erasure asks the SMS provider to
erase each of them (P33), and a data download lists them (P31).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sent_messages_tenant_id_recipient_id"),
            ["tenant_id", "recipient_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_messages_tenant_id_recipient_id"))
