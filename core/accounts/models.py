"""Account tables. Tenant accounts are TenantScoped; operators belong to the platform."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped


class Role(enum.StrEnum):
    CONSUMER = "consumer"
    PROFESSIONAL = "professional"
    CLINIC_ADMIN = "clinic_admin"
    FRONT_DESK = "front_desk"  # patients' records and bookings, by phone or at the desk

    @property
    def is_staff(self) -> bool:
        return self is not Role.CONSUMER


# A member of staff's primary role (``User.role``) is the first of these they hold, so every
# query and page that reads ``role`` alone still sees each clinic admin as one.
STAFF_ROLES = (Role.CLINIC_ADMIN, Role.PROFESSIONAL, Role.FRONT_DESK)


class ProfessionalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class User(TenantScoped, Identified, Base):
    """Anyone who signs in to a tenant's site. Username is unique within the tenant."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "username"),)

    username: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(20))
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    town: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2), default="GB")
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(Text, default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    # One-time recovery codes, as space-separated SHA-256 digests (praxis.core.accounts.recovery).
    recovery_codes: Mapped[str | None] = mapped_column(Text, default=None)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set while the person restricts processing (Art. 18, P34): kept, nothing new done.
    restricted_at: Mapped[datetime | None] = mapped_column(default=None)
    # Roles held beside the primary one, space-separated (a sole practitioner: clinic admin
    # and Professional). Read through ``roles``/``has_role``, written by ``give_roles``.
    extra_roles: Mapped[str] = mapped_column(String(64), default="")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def roles(self) -> frozenset[Role]:
        """Every role this person holds in the clinic."""
        return frozenset({Role(self.role), *(Role(r) for r in (self.extra_roles or "").split())})

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def give_roles(self, roles: set[Role]) -> None:
        """Hold exactly these staff roles: the first of STAFF_ROLES is the primary one."""
        ordered = [r for r in STAFF_ROLES if r in roles]
        if not ordered or len(ordered) != len(roles):
            raise ValueError("a member of staff holds one or more staff roles")
        self.role = ordered[0].value
        self.extra_roles = " ".join(r.value for r in ordered[1:])


class Professional(TenantScoped, Identified, Base):
    """A Professional's public profile; shown on the portal only once approved."""

    __tablename__ = "professionals"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "status"),
    )

    user_id: Mapped[uuid.UUID]
    display_name: Mapped[str] = mapped_column(String(200))
    qualifications: Mapped[str] = mapped_column(Text)
    field_of_practice: Mapped[str] = mapped_column(String(200))
    bio: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ProfessionalStatus.PENDING.value)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="raise", viewonly=True)


class Operator(Base):
    """A platform operator: not tenant-scoped, signs in on the platform domain."""

    __tablename__ = "operators"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(Text, default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    # One-time recovery codes, as space-separated SHA-256 digests (praxis.core.accounts.recovery).
    recovery_codes: Mapped[str | None] = mapped_column(Text, default=None)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSession(TenantScoped, Identified, Base):
    """A signed-in browser. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "user_sessions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "token_hash"),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "user_id"),
    )

    token_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID]
    mfa_pending: Mapped[bool] = mapped_column(default=False)
    # The provider's ID token asserted MFA (amr/acr): our own two-step is not asked of this session
    second_factor_by_provider: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class OperatorSession(Base):
    __tablename__ = "operator_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), index=True
    )
    mfa_pending: Mapped[bool] = mapped_column(default=False)
    # The provider's ID token asserted MFA (amr/acr): our own two-step is not asked of this session
    second_factor_by_provider: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class OperatorPasswordReset(Base):
    """A link emailed to an operator who forgot their password: only its SHA-256 is kept."""

    __tablename__ = "operator_password_resets"
    __table_args__ = (Index(None, "operator_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    operator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class PasswordReset(TenantScoped, Identified, Base):
    __tablename__ = "password_resets"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "token_hash"),
        Index(None, "tenant_id", "user_id", "created_at"),
    )

    user_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
