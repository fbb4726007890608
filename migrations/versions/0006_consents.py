"""Consents per person, purpose and channel: one append-only table, the state derived; and
the clinic's marketing campaigns; the authorities of parents and carers to act for another. Today's
STOP list (sms_opt_outs) and the intake sharing answer (intake_responses.shared) move into it
with their times and sources; a downgrade puts them back from the latest records.

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from praxis.core.db import UTCDateTime
from praxis.migrations.security import FIXED_TRIGGER, fix_tenant, grant_tables, isolate_tenants

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "consent_records"
CAMPAIGNS = "marketing_campaigns"  # what a clinic sent as marketing, on which channel
PROXIES = "proxy_authorities"  # a parent or carer acting for another person (P26)

consent_records = sa.table(
    TABLE,
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("subject_id", sa.Uuid()),
    sa.column("address", sa.String()),
    sa.column("purpose", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("scope_id", sa.Uuid()),
    sa.column("given", sa.Boolean()),
    sa.column("method", sa.String()),
    sa.column("actor_id", sa.Uuid()),
    sa.column("notice_version", sa.Integer()),
    sa.column("note", sa.String()),
    sa.column("recorded_at", UTCDateTime()),
)
sms_opt_outs = sa.table(
    "sms_opt_outs",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("phone", sa.String()),
    sa.column("source", sa.String()),
    sa.column("opted_out_at", UTCDateTime()),
)
intake_responses = sa.table(
    "intake_responses",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("consumer_id", sa.Uuid()),
    sa.column("professional_id", sa.Uuid()),
    sa.column("shared", sa.Boolean()),
    sa.column("completed_at", UTCDateTime()),
)
users = sa.table(
    "users",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("phone", sa.String()),
    sa.column("role", sa.String()),
    sa.column("created_at", UTCDateTime()),
)


@contextmanager
def _all_rows(*tables: str) -> Iterator[None]:
    """On PostgreSQL the owner is held by forced row-level security too: lift it for the copy,
    or a non-superuser would copy nothing and then drop the originals."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in tables if postgres else ():
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    yield
    for table in tables if postgres else ():
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def _refix(table: str) -> None:
    """SQLite's batch mode rebuilds a table without its triggers: put the tenant one back."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_{FIXED_TRIGGER}")
        fix_tenant([table])


def _record(**values: Any) -> dict[str, Any]:
    base = {"id": uuid.uuid4(), "scope_id": None, "actor_id": None, "notice_version": None}
    return {**base, **values}


def _owners(bind: sa.Connection) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
    """Each clinic's number -> the account holding it (a consumer before staff, the oldest)."""
    rows = bind.execute(
        sa.select(users.c.tenant_id, users.c.phone, users.c.id, users.c.role).order_by(
            users.c.created_at.desc(), users.c.id.desc()
        )
    )
    found: dict[tuple[uuid.UUID, str], tuple[bool, uuid.UUID]] = {}
    for tenant_id, phone, user_id, role in rows:
        if not phone:
            continue
        key = (tenant_id, phone)
        consumer = role == "consumer"
        if key not in found or consumer or not found[key][0]:
            found[key] = (consumer, user_id)
    return {key: user_id for key, (_, user_id) in found.items()}


def _copy_in(bind: sa.Connection) -> None:
    owners = _owners(bind)
    records = []
    for tenant_id, phone, source, at in bind.execute(sa.select(sms_opt_outs)):
        records.append(
            _record(
                tenant_id=tenant_id,
                subject_id=owners.get((tenant_id, phone)),
                address=phone,
                purpose="service",
                channel="sms",
                given=False,
                method="sms_keyword" if source == "reply STOP" else "provider_report",
                note=source,
                recorded_at=at,
            )
        )
    for tenant_id, consumer_id, professional_id, shared, at in bind.execute(
        sa.select(intake_responses)
    ):
        records.append(
            _record(
                tenant_id=tenant_id,
                subject_id=consumer_id,
                address=None,
                purpose="intake_sharing",
                channel="professional",
                scope_id=professional_id,
                given=shared,
                method="portal",
                actor_id=consumer_id,
                note="given" if shared else "refused",
                recorded_at=at,
            )
        )
    if records:
        op.bulk_insert(consent_records, records)


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("scope_id", sa.Uuid(), nullable=True),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("notice_version", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_consent_records")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for columns in (
            ["tenant_id", "subject_id", "purpose", "channel", "recorded_at"],
            ["tenant_id", "address", "purpose", "channel", "recorded_at"],
            ["tenant_id", "purpose", "channel", "recorded_at"],
        ):
            name = "ix_consent_records_" + "_".join(columns)
            batch_op.create_index(batch_op.f(name), columns, unique=False)
    op.create_table(
        CAMPAIGNS,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=150), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audience", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_marketing_campaigns")),
    )
    op.create_table(
        PROXIES,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("proxy_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("relationship", sa.String(length=40), nullable=False),
        sa.Column("checked_how", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "proxy_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_proxy_authorities_tenant_id_proxy_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "subject_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_proxy_authorities_tenant_id_subject_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_proxy_authorities")),
    )
    with op.batch_alter_table(PROXIES, schema=None) as batch_op:
        for column in ("proxy_id", "subject_id"):
            name = f"ix_proxy_authorities_tenant_id_{column}"
            batch_op.create_index(batch_op.f(name), ["tenant_id", column], unique=False)
    with _all_rows("sms_opt_outs", "intake_responses", "users"):
        _copy_in(op.get_bind())
    op.drop_table("sms_opt_outs")  # its trigger goes with it
    with op.batch_alter_table("intake_responses", schema=None) as batch_op:
        batch_op.drop_column("shared")
    _refix("intake_responses")
    # Append-only for the app: it adds records and never edits one (erasure may delete).
    isolate_tenants([TABLE, CAMPAIGNS, PROXIES])
    grant_tables([TABLE], "SELECT, INSERT, DELETE")
    grant_tables([CAMPAIGNS, PROXIES])
    fix_tenant([TABLE, CAMPAIGNS, PROXIES])


def _latest(bind: sa.Connection) -> Iterator[tuple[Any, ...]]:
    """The latest record of each (clinic, purpose, channel, person or address, scope)."""
    rows = bind.execute(
        sa.select(consent_records).order_by(consent_records.c.recorded_at, consent_records.c.id)
    )
    last: dict[tuple[Any, ...], Any] = {}
    for row in rows:
        who = row.address if row.purpose == "service" else row.subject_id
        last[(row.tenant_id, row.purpose, row.channel, who, row.scope_id)] = row
    yield from last.items()


def downgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "sms_opt_outs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "phone", name=op.f("pk_sms_opt_outs")),
    )
    with op.batch_alter_table("intake_responses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _refix("intake_responses")
    with _all_rows(TABLE, "intake_responses"):
        stopped: list[dict[str, Any]] = []
        for (tenant_id, purpose, channel, who, scope_id), row in _latest(bind):
            if (purpose, channel) == ("service", "sms") and who and not row.given:
                at: datetime = row.recorded_at
                note = row.note or "reply STOP"
                stopped.append(
                    {"tenant_id": tenant_id, "phone": who, "source": note[:32], "opted_out_at": at}
                )
            elif purpose == "intake_sharing" and row.given:
                bind.execute(
                    intake_responses.update()
                    .where(
                        intake_responses.c.tenant_id == tenant_id,
                        intake_responses.c.consumer_id == who,
                        intake_responses.c.professional_id == scope_id,
                    )
                    .values(shared=True)
                )
        if stopped:
            op.bulk_insert(sms_opt_outs, stopped)
    isolate_tenants(["sms_opt_outs"])
    grant_tables(["sms_opt_outs"])
    fix_tenant(["sms_opt_outs"])
    op.drop_table(PROXIES)
    op.drop_table(CAMPAIGNS)
    op.drop_table(TABLE)
