"""The hot path of a paid checkout, in prebuilt statements (praxis.core.tenancy): every paid
booking sends this webhook once, and in the usual case it is two UPDATEs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.booking.models import Appointment, AppointmentStatus
from praxis.core.db import table_of
from praxis.core.payments.models import Payment, PaymentStatus
from praxis.core.providers.payments import PaymentEvent
from praxis.core.tenancy import run, update_rows

_PAYMENTS = table_of(Payment)
_APPOINTMENTS = table_of(Appointment)
_PAY_OPEN_CHECKOUT = update_rows(
    _PAYMENTS,
    where=(
        _PAYMENTS.c.plugin == bindparam("by_plugin"),
        _PAYMENTS.c.checkout_ref == bindparam("checkout"),
        _PAYMENTS.c.account_ref == bindparam("account"),
        _PAYMENTS.c.status == PaymentStatus.OPEN.value,
        # Only the price asked for confirms here; anything else takes the general path
        _PAYMENTS.c.amount_minor == bindparam("paid_amount"),
        _PAYMENTS.c.currency == bindparam("paid_currency"),
    ),
    values={
        "status": PaymentStatus.PAID.value,
        "payment_ref": bindparam("new_payment_ref"),
        "paid_at": bindparam("new_paid_at"),
    },
    returning=(_PAYMENTS.c.id, _PAYMENTS.c.appointment_id),
)
_CONFIRM_HELD = update_rows(
    _APPOINTMENTS,
    where=(
        _APPOINTMENTS.c.id == bindparam("appointment"),
        _APPOINTMENTS.c.status == AppointmentStatus.AWAITING_PAYMENT.value,
    ),
    values={
        "status": AppointmentStatus.BOOKED.value,
        "confirmed_at": bindparam("at"),
        "hold_expires_at": None,
    },
    returning=(_APPOINTMENTS.c.mode,),
)


@dataclass(frozen=True)
class Paid:
    id: uuid.UUID
    appointment_id: uuid.UUID


async def mark_paid(db: AsyncSession, plugin: str, event: PaymentEvent) -> Paid | None:
    """The open checkout on this clinic's account becomes paid; None if there is none
    (settled before, expired first, not this clinic's, or paid another amount or currency):
    nothing was changed then."""
    checkout = {
        "by_plugin": plugin,
        "checkout": event.checkout_id,
        "account": event.account_id,
        "new_payment_ref": event.payment_id,
        "new_paid_at": event.occurred_at,
        "paid_amount": event.amount_minor if event.amount_minor is not None else -1,
        "paid_currency": (event.currency or "").upper(),
    }
    found = (await run(db, _PAY_OPEN_CHECKOUT, checkout)).first()
    return Paid(found.id, found.appointment_id) if found is not None else None


async def confirm_held(db: AsyncSession, appointment_id: uuid.UUID, *, now: datetime) -> str | None:
    """The appointment still held for its payment becomes booked: its mode, or None if the
    time is no longer held for it."""
    held = {"appointment": appointment_id, "at": now}
    found = (await run(db, _CONFIRM_HELD, held)).first()
    return str(found.mode) if found is not None else None
