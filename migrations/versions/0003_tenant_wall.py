"""The tenant wall, closed: a row's tenant never changes (a trigger on both backends), and the
outbox's jobs sit behind row-level security; the unused dedupe key is dropped.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from praxis.migrations.security import fix_tenant, isolate_tagged, release_tagged, unfix_tenant

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Every table behind the wall as of this revision (later ones fix their own).
WALLED = [
    "appointments",
    "availability_exceptions",
    "consultation_types",
    "inbound_sms",
    "intake_questionnaires",
    "intake_responses",
    "ledger_events",
    "ledger_heads",
    "outbox_jobs",
    "password_resets",
    "payment_accounts",
    "payment_refunds",
    "payments",
    "professionals",
    "provider_settings",
    "sent_messages",
    "slot_holds",
    "sms_opt_outs",
    "tenant_data_keys",
    "user_sessions",
    "users",
    "video_attendance",
    "video_meetings",
    "webhook_events",
    "weekly_availability",
]
TAGGED = ["outbox_jobs"]


def upgrade() -> None:
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_outbox_jobs_tenant_id_dedupe_key"), type_="unique")
        batch_op.drop_column("dedupe_key")
    fix_tenant(WALLED)
    isolate_tagged(TAGGED)


def downgrade() -> None:
    release_tagged(TAGGED)
    unfix_tenant(WALLED)
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_outbox_jobs_tenant_id_dedupe_key"), ["tenant_id", "dedupe_key"]
        )
