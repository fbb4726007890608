"""Tables of the rights a consumer exercises: their data exports (P31, P34 portability).

An export is built once into a ZIP and kept, sealed with the clinic's data key in chunks,
until its link expires: the worker builds it, any web process streams it back.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped


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
