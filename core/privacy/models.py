"""The privacy domain's tables: the clinic's notice version by version and who acknowledged
which (P37); "Download my data" archives (P31, P34 portability), built once, kept sealed with
the clinic's data key until their link expires; when an account closed (the retention clock,
P28) and was erased (P33); and the legal holds that pause retention."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped


class PrivacyNotice(TenantScoped, Identified, Base):
    """A version of the notice. The draft (at most one) has no number; publishing numbers it,
    freezes its text with the details filled in, and it is never changed again."""

    __tablename__ = "privacy_notices"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    version: Mapped[int | None] = mapped_column(default=None)  # None: the draft
    source: Mapped[str] = mapped_column(Text)  # Markdown with [[markers]], as written
    body: Mapped[str] = mapped_column(Text, default="")  # published: markers filled in
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)  # recipients and settings
    effective_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    published_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class NoticeAcknowledgement(TenantScoped, Base):
    """A consumer read a new version: which, and when."""

    __tablename__ = "privacy_notice_acknowledgements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "version"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"  # asked for; the worker builds it
    READY = "ready"  # can be downloaded until it expires
    FAILED = "failed"  # could not be built (the clinic's data key is gone)


class DataExport(TenantScoped, Identified, Base):
    """One "Download my data" archive of one person."""

    __tablename__ = "data_exports"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "user_id", "requested_at"),
        Index(None, "tenant_id", "expires_at"),
    )

    user_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(16), default=ExportStatus.QUEUED.value)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime]  # the link stops working then, and the archive is deleted
    records: Mapped[int] = mapped_column(default=0)
    size_bytes: Mapped[int] = mapped_column(default=0)
    chunks: Mapped[int] = mapped_column(default=0)
    downloaded_at: Mapped[datetime | None] = mapped_column(default=None)


class DataExportChunk(TenantScoped, Base):
    """A slice of an archive, sealed with the clinic's data key (no plain copy at rest)."""

    __tablename__ = "data_export_chunks"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "export_id"],
            ["data_exports.tenant_id", "data_exports.id"],
            ondelete="CASCADE",
        ),
    )

    export_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)


class AccountClosure(TenantScoped, Base):
    """A closed account: it cannot sign in, and its data is erased once the clinic's
    ``retention.closed_account_months`` have passed (or at once, if the person asked)."""

    __tablename__ = "account_closures"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "erased_at", "closed_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by: Mapped[uuid.UUID | None] = mapped_column(default=None)  # None: the platform
    erase_requested: Mapped[bool] = mapped_column(default=False)  # asked for, held meanwhile
    erased_at: Mapped[datetime | None] = mapped_column(default=None)


class LegalHold(TenantScoped, Identified, Base):
    """While a hold is in place nothing it covers is deleted: one person, or (no subject)
    the whole clinic."""

    __tablename__ = "legal_holds"
    __table_args__ = (Index(None, "tenant_id", "lifted_at", "subject_id"),)

    subject_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # None: every record
    reason: Mapped[str] = mapped_column(String(300))
    placed_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(default=None)
    lifted_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class WrittenRequest(TenantScoped, Identified, Base):
    """A rights request that came by email, by post or in person, logged by staff: answered
    within one month of receipt, or within three if extended with a reason (UK GDPR Art. 12(3))."""

    __tablename__ = "rights_requests"
    __table_args__ = (Index(None, "tenant_id", "closed_at", "due_on"),)

    subject_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # the consumer, if known
    kind: Mapped[str] = mapped_column(String(16))  # access | rectification | erasure ...
    channel: Mapped[str] = mapped_column(String(16))  # email | post | in_person | phone
    identity_check: Mapped[str] = mapped_column(String(300))  # how staff knew who asked
    received_on: Mapped[date]
    due_on: Mapped[date]  # one month after receipt, or the extended deadline
    extension_reason: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(String(16), default="")  # done | refused, once closed
    outcome_note: Mapped[str] = mapped_column(String(300), default="")
    logged_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    logged_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    reminded_for: Mapped[date | None] = mapped_column(
        default=None
    )  # the deadline staff were told of


class TenantExit(Base):
    """A clinic leaving the platform (P29), started by the operator: sign-in closes on
    ``leaves_on``; its rows and data key are purged ``retention.tenant_exit_months`` later.
    A platform table: it outlives the clinic's own rows."""

    __tablename__ = "tenant_exits"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    leaves_on: Mapped[date]
    reason: Mapped[str] = mapped_column(String(300))
    started_by: Mapped[uuid.UUID | None] = mapped_column(default=None)  # the operator
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    purged_at: Mapped[datetime | None] = mapped_column(default=None)


class TenantPurge(Base):
    """What stays on the platform of a purged clinic: its id and slug, how many rows left each
    table, and the head of its ledger's hash chain (proof of what the ledger was)."""

    __tablename__ = "tenant_purges"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID]
    slug: Mapped[str] = mapped_column(String(63))
    counts: Mapped[dict[str, Any]]  # table name -> rows deleted
    chain_head: Mapped[str] = mapped_column(String(64))  # "" when the clinic had no ledger
    chain_length: Mapped[int] = mapped_column(default=0)
    purged_at: Mapped[datetime] = mapped_column(default=utcnow)
