"""Payment tables. Billing records keep no foreign keys to people: they outlive them (P30)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped


class PaymentStatus(enum.StrEnum):
    OPEN = "open"  # a checkout page exists; not paid yet
    PAID = "paid"
    EXPIRED = "expired"  # never paid
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    HELD = "held"  # paid, but not the booking's amount or currency: staff decide


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"  # written with the cancellation; the outbox asks the provider
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentAccount(TenantScoped, Identified, Base):
    """The clinic's (or one Professional's) own account at the payment provider (P10)."""

    __tablename__ = "payment_accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "plugin", "account_ref"),)

    professional_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # None: the clinic
    plugin: Mapped[str] = mapped_column(String(48))
    account_ref: Mapped[str] = mapped_column(String(100))
    charges_enabled: Mapped[bool] = mapped_column(default=False)
    details_submitted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(TenantScoped, Identified, Base):
    """A billing record: what was charged, when, on which account, by which provider ids.

    No card data: the consumer pays on the provider's hosted page (P09).
    """

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "plugin", "checkout_ref"),
        Index(None, "tenant_id", "appointment_id"),
        Index(None, "tenant_id", "payment_ref"),
    )

    appointment_id: Mapped[uuid.UUID]
    consumer_id: Mapped[uuid.UUID]
    plugin: Mapped[str] = mapped_column(String(48))
    account_ref: Mapped[str] = mapped_column(String(100))
    checkout_ref: Mapped[str] = mapped_column(String(200))
    checkout_url: Mapped[str] = mapped_column(Text)
    payment_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    application_fee_minor: Mapped[int] = mapped_column(default=0)
    refunded_minor: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(24), default=PaymentStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    paid_at: Mapped[datetime | None] = mapped_column(default=None)


class PaymentRefund(TenantScoped, Identified, Base):
    __tablename__ = "payment_refunds"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "payment_id"], ["payments.tenant_id", "payments.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "payment_id"),
        Index(None, "tenant_id", "refund_ref"),
    )

    payment_id: Mapped[uuid.UUID]
    amount_minor: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    refund_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.REQUESTED.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
