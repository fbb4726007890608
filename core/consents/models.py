"""One row per consent given or withdrawn: never updated, the latest for a person, purpose,
channel (and scope) is the state in force."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped


class ConsentRecord(TenantScoped, Identified, Base):
    """A person gave or withdrew consent to one purpose on one channel."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index(None, "tenant_id", "subject_id", "purpose", "channel", "recorded_at"),
        Index(None, "tenant_id", "address", "purpose", "channel", "recorded_at"),
        Index(None, "tenant_id", "purpose", "channel", "recorded_at"),
    )

    # Whom it is about: an account; None when only the number or address is known (a STOP
    # from a number no account holds, a subscriber without an account).
    subject_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    address: Mapped[str | None] = mapped_column(String(320), default=None)  # phone or email
    purpose: Mapped[str] = mapped_column(String(24))  # service | marketing | intake_sharing...
    channel: Mapped[str] = mapped_column(String(16))  # sms | email | professional | cookies
    scope_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # e.g. the Professional
    given: Mapped[bool]
    method: Mapped[str] = mapped_column(String(32))  # portal | sms_keyword | email_link ...
    actor_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # who acted, if not them
    notice_version: Mapped[int | None] = mapped_column(default=None)  # the notice in force
    note: Mapped[str] = mapped_column(String(200), default="")  # "reply STOP", never content
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProxyAuthority(TenantScoped, Identified, Base):
    """A parent or carer may act for another person: recorded by staff once they checked the
    authority (P26); ended, never deleted, when it stops."""

    __tablename__ = "proxy_authorities"
    __table_args__ = (
        Index(None, "tenant_id", "proxy_id"),
        Index(None, "tenant_id", "subject_id"),
        ForeignKeyConstraint(
            ["tenant_id", "proxy_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "subject_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
    )

    proxy_id: Mapped[uuid.UUID]  # who acts
    subject_id: Mapped[uuid.UUID]  # for whom
    relationship: Mapped[str] = mapped_column(String(40))  # parent, carer, attorney...
    checked_how: Mapped[str] = mapped_column(String(200))  # what staff saw, not its content
    recorded_by: Mapped[uuid.UUID]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
