"""Receipts for what patients paid: one per payment, printable (and so savable as PDF from
any browser), for the patient and for the clinic's staff. Built from the billing record, the
booking it paid for and the clinic's details as data controller."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.models import Professional, User
from praxis.core.booking.models import Appointment, ConsultationType
from praxis.core.errors import NotFound
from praxis.core.payments.models import Payment, PaymentStatus

RECEIPTED = (
    PaymentStatus.PAID.value,
    PaymentStatus.PARTIALLY_REFUNDED.value,
    PaymentStatus.REFUNDED.value,
)


@dataclass(frozen=True)
class Receipt:
    number: str
    paid_at: datetime
    patient: str
    consultation: str
    professional: str
    starts_at: datetime
    amount_minor: int
    refunded_minor: int
    currency: str
    provider_reference: str

    @property
    def kept_minor(self) -> int:
        return self.amount_minor - self.refunded_minor


def number_of(payment: Payment) -> str:
    return payment.id.hex[:10].upper()


async def _receipt(db: AsyncSession, payment: Payment) -> Receipt:
    appointment = await db.scalar(
        select(Appointment).where(Appointment.id == payment.appointment_id)
    )
    if appointment is None or payment.paid_at is None:
        raise NotFound("There is no receipt for this payment.")
    kind = await db.scalar(
        select(ConsultationType).where(ConsultationType.id == appointment.consultation_type_id)
    )
    professional = await db.scalar(
        select(Professional).where(Professional.id == appointment.professional_id)
    )
    patient = await db.scalar(select(User).where(User.id == payment.consumer_id))
    return Receipt(
        number=number_of(payment),
        paid_at=payment.paid_at,
        patient=patient.full_name if patient is not None else "",
        consultation=kind.name if kind is not None else "Consultation",
        professional=professional.display_name if professional is not None else "",
        starts_at=appointment.starts_at,
        amount_minor=payment.amount_minor,
        refunded_minor=payment.refunded_minor,
        currency=payment.currency,
        provider_reference=payment.payment_ref or "",
    )


async def for_patient(
    db: AsyncSession, consumer_id: uuid.UUID, appointment_id: uuid.UUID
) -> Receipt:
    """The receipt of a patient's own appointment (another's answers as if none existed)."""
    payment = await db.scalar(
        select(Payment)
        .where(Payment.appointment_id == appointment_id, Payment.consumer_id == consumer_id)
        .where(Payment.status.in_(RECEIPTED))
        .order_by(Payment.paid_at.desc())
        .limit(1)
    )
    if payment is None:
        raise NotFound("There is no receipt for this appointment: nothing was paid online.")
    return await _receipt(db, payment)


async def for_staff(db: AsyncSession, payment_id: uuid.UUID) -> Receipt:
    payment = await db.scalar(
        select(Payment).where(Payment.id == payment_id, Payment.status.in_(RECEIPTED))
    )
    if payment is None:
        raise NotFound("There is no receipt for this payment.")
    return await _receipt(db, payment)


async def recent(db: AsyncSession, limit: int = 50) -> list[Payment]:
    """The latest payments with a receipt, newest first, for the clinic's payments page."""
    return list(
        await db.scalars(
            select(Payment)
            .where(Payment.status.in_(RECEIPTED), Payment.paid_at.is_not(None))
            .order_by(Payment.paid_at.desc(), Payment.id)
            .limit(limit)
        )
    )
