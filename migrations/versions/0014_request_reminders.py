"""Written rights requests remember which deadline their staff reminder was sent for, so the
daily scan emails the clinic's admins once a week before each deadline (an extension moves
the deadline, and the reminder with it).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rights_requests", sa.Column("reminded_for", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rights_requests", schema=None) as batch_op:
        batch_op.drop_column("reminded_for")
