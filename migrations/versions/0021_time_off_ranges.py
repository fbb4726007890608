"""Time off as date ranges: a dated change runs from ``on_date`` to ``until_date``
(inclusive). Every existing change was one day, so it ends where it starts.

Revision ID: 0021
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from praxis.migrations.security import fix_tenant, unfix_tenant

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None

TABLE = "availability_exceptions"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("until_date", sa.Date(), nullable=True))
    op.execute(f"UPDATE {TABLE} SET until_date = on_date")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column("until_date", existing_type=sa.Date(), nullable=False)
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_range"), "until_date >= on_date")
    if _sqlite():  # SQLite's batch mode rebuilt the table without its tenant trigger
        unfix_tenant([TABLE], drop_function=False)
        fix_tenant([TABLE])


def downgrade() -> None:
    # A range of several days becomes its first day only: the rest cannot be kept.
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_range"), type_="check")
        batch_op.drop_column("until_date")
    if _sqlite():
        unfix_tenant([TABLE], drop_function=False)
        fix_tenant([TABLE])
