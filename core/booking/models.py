"""Booking tables. Every one is tenant-owned; tenant_id leads each key and index."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from praxis.core.accounts.models import Professional, User
from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped

# Appointments occupy the diary in units of this many minutes; see SlotHold.
HOLD_MINUTES = 5


class ConsultationMode(enum.StrEnum):
    VIDEO = "video"
    IN_PERSON = "in_person"


class AppointmentStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"  # the time is held while the consumer pays
    BOOKED = "booked"  # confirmed: free, or paid
    CANCELLED = "cancelled"
    RELEASED = "released"  # never paid: the time went back to the diary


def _professional_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", "professional_id"],
        ["professionals.tenant_id", "professionals.id"],
        ondelete="CASCADE",
    )


class ConsultationType(TenantScoped, Identified, Base):
    """What a consumer books: length, price and whether it is by video or in person."""

    __tablename__ = "consultation_types"
    __table_args__ = (
        _professional_fk(),
        Index(None, "tenant_id", "professional_id"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes % 5 = 0", name="duration"),
        CheckConstraint("price_minor >= 0", name="price"),
    )

    professional_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(120))
    duration_minutes: Mapped[int]
    price_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    mode: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WeeklyAvailability(TenantScoped, Identified, Base):
    """A recurring window, in the tenant's local time, when a Professional can be booked."""

    __tablename__ = "weekly_availability"
    __table_args__ = (
        _professional_fk(),
        Index(None, "tenant_id", "professional_id", "weekday"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("ends_at > starts_at", name="order"),
    )

    professional_id: Mapped[uuid.UUID]
    weekday: Mapped[int]  # 0 = Monday, as date.weekday()
    starts_at: Mapped[time]
    ends_at: Mapped[time]


class AvailabilityException(TenantScoped, Identified, Base):
    """A dated change from ``on_date`` to ``until_date`` (inclusive): time off, or extra hours.

    Without times it covers whole days; with times, that part of each day in the range.
    The note is the reason, shown to the clinic's staff only.
    """

    __tablename__ = "availability_exceptions"
    __table_args__ = (
        _professional_fk(),
        Index(None, "tenant_id", "professional_id", "on_date"),
        CheckConstraint("until_date >= on_date", name="range"),
    )

    professional_id: Mapped[uuid.UUID]
    on_date: Mapped[date]
    until_date: Mapped[date]
    starts_at: Mapped[time | None] = mapped_column(default=None)
    ends_at: Mapped[time | None] = mapped_column(default=None)
    available: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(String(200), default="")


class Appointment(TenantScoped, Identified, Base):
    __tablename__ = "appointments"
    __table_args__ = (
        _professional_fk(),
        ForeignKeyConstraint(
            ["tenant_id", "consumer_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "consultation_type_id"],
            ["consultation_types.tenant_id", "consultation_types.id"],
        ),
        Index(None, "tenant_id", "consumer_id", "starts_at"),
        Index(None, "tenant_id", "professional_id", "starts_at"),
        Index(None, "tenant_id", "status", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="order"),
    )

    professional_id: Mapped[uuid.UUID]
    consumer_id: Mapped[uuid.UUID]
    consultation_type_id: Mapped[uuid.UUID]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.BOOKED.value)
    mode: Mapped[str] = mapped_column(String(16))
    price_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    hold_expires_at: Mapped[datetime | None] = mapped_column(default=None)  # awaiting payment
    reminder_queued_at: Mapped[datetime | None] = mapped_column(default=None)

    professional: Mapped[Professional] = relationship(lazy="raise", viewonly=True)
    consumer: Mapped[User] = relationship(lazy="raise", viewonly=True)
    consultation_type: Mapped[ConsultationType] = relationship(lazy="raise", viewonly=True)


class SlotHold(TenantScoped, Base):
    """One HOLD_MINUTES unit of a Professional's diary taken by a live appointment.

    The primary key makes double-booking impossible in the database itself, on
    SQLite and PostgreSQL alike, however many requests race for the same time.
    """

    __tablename__ = "slot_holds"
    __table_args__ = (
        _professional_fk(),
        ForeignKeyConstraint(
            ["tenant_id", "appointment_id"],
            ["appointments.tenant_id", "appointments.id"],
            ondelete="CASCADE",
        ),
        Index(None, "tenant_id", "appointment_id"),
    )

    professional_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    appointment_id: Mapped[uuid.UUID]
