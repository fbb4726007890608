"""providers, ledger, outbox: provider settings, the disclosure ledger, durable jobs,
webhooks, payments, video rooms, messages, intake questionnaires, tenant data keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 20:06:05.967568
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from praxis.migrations.security import grant_tables, isolate_tenants

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# Tenant-owned tables: row-level security, full rights for the app role.
TENANT_TABLES = [
    "inbound_sms",
    "password_resets",
    "intake_questionnaires",
    "intake_responses",
    "payment_accounts",
    "payment_refunds",
    "payments",
    "provider_settings",
    "sent_messages",
    "sms_opt_outs",
    "tenant_data_keys",
    "video_attendance",
    "video_meetings",
    "webhook_events",
]
# Append-only: the app role may read and add, never change or remove (tamper evidence).
APPEND_ONLY = ["ledger_events"]
# The chain's head moves with each entry but is never removed by the app.
NEVER_DELETED = ["ledger_heads"]
# Workers claim jobs across tenants; each job then runs inside its tenant's context.
PLATFORM_TABLES = ["outbox_jobs"]


def upgrade() -> None:
    op.create_table(
        "password_resets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_password_resets_tenant_id_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_password_resets")),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_password_resets_tenant_id_token_hash"), ["tenant_id", "token_hash"]
        )
        batch_op.create_index(
            batch_op.f("ix_password_resets_tenant_id_user_id_created_at"),
            ["tenant_id", "user_id", "created_at"],
        )
    op.create_table(
        "inbound_sms",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("keyword", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_inbound_sms")),
    )
    op.create_table(
        "intake_questionnaires",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "resource",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_intake_questionnaires")),
    )
    with op.batch_alter_table("intake_questionnaires", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_questionnaires_tenant_id_active"),
            ["tenant_id", "active"],
            unique=False,
        )

    op.create_table(
        "ledger_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=True),
        sa.Column("plugin", sa.String(length=48), nullable=False),
        sa.Column("operation", sa.String(length=48), nullable=False),
        sa.Column("categories", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("legal_basis", sa.String(length=200), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("attempt_seq", sa.BigInteger(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seq", name=op.f("pk_ledger_events")),
    )
    with op.batch_alter_table("ledger_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_events_tenant_id_kind_seq"),
            ["tenant_id", "kind", "seq"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_events_tenant_id_subject_id_seq"),
            ["tenant_id", "subject_id", "seq"],
            unique=False,
        )

    op.create_table(
        "ledger_heads",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_ledger_heads")),
    )
    op.create_table(
        "payment_accounts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("professional_id", sa.Uuid(), nullable=True),
        sa.Column("plugin", sa.String(length=48), nullable=False),
        sa.Column("account_ref", sa.String(length=100), nullable=False),
        sa.Column("charges_enabled", sa.Boolean(), nullable=False),
        sa.Column("details_submitted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_payment_accounts")),
        sa.UniqueConstraint(
            "tenant_id",
            "plugin",
            "account_ref",
            name=op.f("uq_payment_accounts_tenant_id_plugin_account_ref"),
        ),
    )
    op.create_table(
        "payments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("consumer_id", sa.Uuid(), nullable=False),
        sa.Column("plugin", sa.String(length=48), nullable=False),
        sa.Column("account_ref", sa.String(length=100), nullable=False),
        sa.Column("checkout_ref", sa.String(length=200), nullable=False),
        sa.Column("checkout_url", sa.Text(), nullable=False),
        sa.Column("payment_ref", sa.String(length=100), nullable=True),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("application_fee_minor", sa.Integer(), nullable=False),
        sa.Column("refunded_minor", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "tenant_id",
            "plugin",
            "checkout_ref",
            name=op.f("uq_payments_tenant_id_plugin_checkout_ref"),
        ),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_tenant_id_appointment_id"),
            ["tenant_id", "appointment_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_payments_tenant_id_payment_ref"),
            ["tenant_id", "payment_ref"],
            unique=False,
        )

    op.create_table(
        "provider_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("plugin", sa.String(length=48), nullable=False),
        sa.Column(
            "values",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "secrets",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "plugin", name=op.f("pk_provider_settings")),
    )
    op.create_table(
        "sent_messages",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("plugin", sa.String(length=48), nullable=False),
        sa.Column("provider_ref", sa.String(length=200), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=True),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sent_messages")),
    )
    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sent_messages_tenant_id_appointment_id"),
            ["tenant_id", "appointment_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_sent_messages_tenant_id_plugin_provider_ref"),
            ["tenant_id", "plugin", "provider_ref"],
            unique=False,
        )

    op.create_table(
        "sms_opt_outs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "phone", name=op.f("pk_sms_opt_outs")),
    )
    op.create_table(
        "tenant_data_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("wrapped_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_data_keys")),
    )
    op.create_table(
        "webhook_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("plugin", sa.String(length=48), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=48), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "plugin", "event_id", name=op.f("pk_webhook_events")),
    )
    op.create_table(
        "intake_responses",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("questionnaire_id", sa.Uuid(), nullable=False),
        sa.Column("consumer_id", sa.Uuid(), nullable=False),
        sa.Column("professional_id", sa.Uuid(), nullable=False),
        sa.Column("answers_sealed", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "consumer_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_intake_responses_tenant_id_consumer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "questionnaire_id"],
            ["intake_questionnaires.tenant_id", "intake_questionnaires.id"],
            name=op.f("fk_intake_responses_tenant_id_questionnaire_id_intake_questionnaires"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_intake_responses")),
        sa.UniqueConstraint(
            "tenant_id",
            "consumer_id",
            "professional_id",
            name=op.f("uq_intake_responses_tenant_id_consumer_id_professional_id"),
        ),
    )
    op.create_table(
        "outbox_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_outbox_jobs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_jobs")),
        sa.UniqueConstraint(
            "tenant_id", "dedupe_key", name=op.f("uq_outbox_jobs_tenant_id_dedupe_key")
        ),
    )
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_jobs_status_run_after"), ["status", "run_after"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_jobs_tenant_id_status_created_at"),
            ["tenant_id", "status", "created_at"],
            unique=False,
        )

    op.create_table(
        "payment_refunds",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("refund_ref", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "payment_id"],
            ["payments.tenant_id", "payments.id"],
            name=op.f("fk_payment_refunds_tenant_id_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_payment_refunds")),
    )
    with op.batch_alter_table("payment_refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_refunds_tenant_id_payment_id"),
            ["tenant_id", "payment_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_payment_refunds_tenant_id_refund_ref"),
            ["tenant_id", "refund_ref"],
            unique=False,
        )

    op.create_table(
        "video_attendance",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "appointment_id"],
            ["appointments.tenant_id", "appointments.id"],
            name=op.f("fk_video_attendance_tenant_id_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_video_attendance")),
    )
    with op.batch_alter_table("video_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_video_attendance_tenant_id_appointment_id_occurred_at"),
            ["tenant_id", "appointment_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "video_meetings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("plugin", sa.String(length=48), nullable=False),
        sa.Column("meeting_ref", sa.String(length=100), nullable=False),
        sa.Column("room_url_sealed", sa.Text(), nullable=False),
        sa.Column("host_url_sealed", sa.Text(), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("host_joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("visitor_joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "appointment_id"],
            ["appointments.tenant_id", "appointments.id"],
            name=op.f("fk_video_meetings_tenant_id_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "appointment_id", name=op.f("pk_video_meetings")),
    )
    with op.batch_alter_table("video_meetings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_video_meetings_tenant_id_plugin_meeting_ref"),
            ["tenant_id", "plugin", "meeting_ref"],
            unique=False,
        )

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("hold_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("reminder_queued_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_appointments_tenant_id_status_starts_at"),
            ["tenant_id", "status", "starts_at"],
            unique=False,
        )

    isolate_tenants(TENANT_TABLES + APPEND_ONLY + NEVER_DELETED)
    grant_tables(TENANT_TABLES + PLATFORM_TABLES)
    grant_tables(APPEND_ONLY, "SELECT, INSERT")
    grant_tables(NEVER_DELETED, "SELECT, INSERT, UPDATE")


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_tenant_id_status_starts_at"))
        batch_op.drop_column("reminder_queued_at")
        batch_op.drop_column("hold_expires_at")
        batch_op.drop_column("confirmed_at")

    with op.batch_alter_table("video_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_meetings_tenant_id_plugin_meeting_ref"))

    op.drop_table("video_meetings")
    with op.batch_alter_table("video_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_attendance_tenant_id_appointment_id_occurred_at"))

    op.drop_table("video_attendance")
    with op.batch_alter_table("payment_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_refunds_tenant_id_refund_ref"))
        batch_op.drop_index(batch_op.f("ix_payment_refunds_tenant_id_payment_id"))

    op.drop_table("payment_refunds")
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_jobs_tenant_id_status_created_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_jobs_status_run_after"))

    op.drop_table("outbox_jobs")
    op.drop_table("intake_responses")
    op.drop_table("webhook_events")
    op.drop_table("tenant_data_keys")
    op.drop_table("sms_opt_outs")
    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_messages_tenant_id_plugin_provider_ref"))
        batch_op.drop_index(batch_op.f("ix_sent_messages_tenant_id_appointment_id"))

    op.drop_table("sent_messages")
    op.drop_table("provider_settings")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_tenant_id_payment_ref"))
        batch_op.drop_index(batch_op.f("ix_payments_tenant_id_appointment_id"))

    op.drop_table("payments")
    op.drop_table("payment_accounts")
    op.drop_table("ledger_heads")
    with op.batch_alter_table("ledger_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_events_tenant_id_subject_id_seq"))
        batch_op.drop_index(batch_op.f("ix_ledger_events_tenant_id_kind_seq"))

    op.drop_table("ledger_events")
    with op.batch_alter_table("intake_questionnaires", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_questionnaires_tenant_id_active"))

    op.drop_table("intake_questionnaires")
    op.drop_table("inbound_sms")
    op.drop_table("password_resets")
