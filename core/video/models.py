"""The video room of each video appointment, and who came."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped


class VideoMeeting(TenantScoped, Base):
    """Room links are sealed at rest: the host link grants control of the room."""

    __tablename__ = "video_meetings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "appointment_id"],
            ["appointments.tenant_id", "appointments.id"],
            ondelete="CASCADE",
        ),
        Index(None, "tenant_id", "plugin", "meeting_ref"),
    )

    appointment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(48))
    meeting_ref: Mapped[str] = mapped_column(String(100))
    room_url_sealed: Mapped[str] = mapped_column(Text)
    host_url_sealed: Mapped[str] = mapped_column(Text)
    ends_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    host_joined_at: Mapped[datetime | None] = mapped_column(default=None)
    visitor_joined_at: Mapped[datetime | None] = mapped_column(default=None)
    session_started_at: Mapped[datetime | None] = mapped_column(default=None)
    session_ended_at: Mapped[datetime | None] = mapped_column(default=None)


class Attendance(TenantScoped, Identified, Base):
    """Each join, leave, start and end, as the provider reported it (in any order)."""

    __tablename__ = "video_attendance"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "appointment_id"],
            ["appointments.tenant_id", "appointments.id"],
            ondelete="CASCADE",
        ),
        Index(None, "tenant_id", "appointment_id", "occurred_at"),
    )

    appointment_id: Mapped[uuid.UUID]
    event: Mapped[str] = mapped_column(String(24))
    role: Mapped[str | None] = mapped_column(String(16), default=None)
    occurred_at: Mapped[datetime]
