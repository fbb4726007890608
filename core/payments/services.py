"""Taking payment for a consultation on the clinic's own account, and giving it back.

The consumer pays on the provider's hosted page (the platform never sees a card, P09) and
the charge is made on the clinic's or the Professional's connected account (P10). Only a
verified webhook confirms an appointment; an expired checkout releases its time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from praxis.core import ledger, outbox
from praxis.core.accounts.models import User
from praxis.core.booking.confirmation import confirm, confirmation_jobs, hold_again, release
from praxis.core.booking.events import (
    APPOINTMENT_CANCELLED,
    APPOINTMENT_REQUESTED,
    APPOINTMENT_RESCHEDULED,
)
from praxis.core.booking.models import Appointment, AppointmentStatus
from praxis.core.booking.policy import HOLD_MARGIN, refund_due
from praxis.core.db import utcnow
from praxis.core.errors import Conflict, NotFound, ProviderNotReady
from praxis.core.ledger import Entry, EventKind, LedgerEvent, RecipientKind, Status
from praxis.core.money import money
from praxis.core.outbox import Happened, Job, handles, subscribe
from praxis.core.payments import rows
from praxis.core.payments.models import (
    Payment,
    PaymentAccount,
    PaymentRefund,
    PaymentStatus,
    RefundStatus,
)
from praxis.core.plugins.facade import Facade
from praxis.core.providers.payments import CheckoutRequest, PaymentEvent
from praxis.core.tenancy import Database
from praxis.core.webhooks import applies
from praxis.tenants.directory import TenantInfo

HELD_OPERATION = "payment_held"
REFUND_TOPIC = "payments.refund"
EXPIRE_TOPIC = "payments.expire_checkout"
_REFUND_WORDS = {"canceled": RefundStatus.FAILED.value}  # the provider's word, in ours


async def receiving_account(
    db: AsyncSession, plugin: str, professional_id: uuid.UUID
) -> PaymentAccount | None:
    """The Professional's own ready account if they connected one, else the clinic's."""
    accounts = await db.scalars(
        select(PaymentAccount).where(
            PaymentAccount.plugin == plugin, PaymentAccount.charges_enabled.is_(True)
        )
    )
    ready = list(accounts)
    mine = [a for a in ready if a.professional_id == professional_id]
    clinic = [a for a in ready if a.professional_id is None]
    return next(iter(mine or clinic), None)


@subscribe(APPOINTMENT_REQUESTED)
async def refuse_what_cannot_be_paid(db: AsyncSession, happened: Happened) -> None:
    """A paid consultation is not offered while no account of the clinic (or the
    Professional) can take the payment: the consumer is told when they choose it."""
    if not happened.payload["paying"]:
        return
    tenant = happened.tenant
    plugin = tenant.providers.get("payments") or ""
    professional_id = uuid.UUID(happened.payload["professional_id"])
    if await receiving_account(db, plugin, professional_id) is None:
        raise Conflict(
            f"{tenant.name} cannot take payments online yet, so this consultation cannot be "
            "booked here for now. Please contact the clinic to book it."
        )


def _checkout_expiry(tenant: TenantInfo, appointment: Appointment, *, now: datetime) -> datetime:
    """When the hosted page stops taking payment: the end of the time held at booking."""
    if appointment.hold_expires_at is not None:
        return appointment.hold_expires_at - HOLD_MARGIN
    return now + timedelta(minutes=tenant.booking.payment_hold_minutes)


async def clinic_account(db: AsyncSession, plugin: str) -> PaymentAccount | None:
    return await db.scalar(
        select(PaymentAccount).where(
            PaymentAccount.plugin == plugin, PaymentAccount.professional_id.is_(None)
        )
    )


async def open_payment(
    db: AsyncSession, appointment_id: uuid.UUID, *, now: datetime
) -> Payment | None:
    return await db.scalar(
        select(Payment)
        .where(
            Payment.appointment_id == appointment_id,
            Payment.status == PaymentStatus.OPEN.value,
            Payment.expires_at > now,
        )
        .order_by(Payment.created_at.desc())
    )


async def payments_of(db: AsyncSession, appointment_id: uuid.UUID) -> list[Payment]:
    query = select(Payment).where(Payment.appointment_id == appointment_id)
    return list((await db.scalars(query.order_by(Payment.created_at))).all())


def _description(tenant: TenantInfo, appointment: Appointment) -> str:
    when = format_datetime(
        appointment.starts_at.astimezone(tenant.zone), "EEE d MMM y, HH:mm", locale=tenant.locale
    )
    kind = appointment.consultation_type.name
    return f"{kind} with {appointment.professional.display_name}, {when}"[:200]


async def checkout_url(
    database: Database,
    providers: Facade,
    tenant: TenantInfo,
    consumer: User,
    appointment_id: uuid.UUID,
    *,
    site_url: str,
    now: datetime,
) -> str:
    """The hosted payment page for an appointment awaiting payment (made once, reused)."""
    async with database.reading(tenant.id) as db:
        appointment = await db.scalar(
            select(Appointment)
            .options(
                joinedload(Appointment.professional), joinedload(Appointment.consultation_type)
            )
            .where(Appointment.id == appointment_id, Appointment.consumer_id == consumer.id)
        )
        if appointment is None:
            raise NotFound("We could not find that appointment.")
        if appointment.status != AppointmentStatus.AWAITING_PAYMENT.value:
            raise Conflict("This appointment is not waiting for a payment.")
        existing = await open_payment(db, appointment.id, now=now)
        if existing is not None:
            return existing.checkout_url
        plugin = (await providers.built("payments")).manifest.name
        account = await receiving_account(db, plugin, appointment.professional_id)
    if account is None:
        raise ProviderNotReady(
            f"{tenant.name} cannot take payments online yet. Please contact the clinic."
        )
    base = site_url
    # The same on every try (the hold set at booking), so a retry after a lost answer asks
    # the provider for exactly what the first try did, under the same idempotency key.
    expires = _checkout_expiry(tenant, appointment, now=now)
    checkout = await providers.payments.create_checkout(
        subject_id=consumer.id,
        request=CheckoutRequest(
            # One page per time: an appointment moved before it was paid gets a new one.
            idempotency_key=f"checkout-{appointment.id}-{appointment.starts_at:%Y%m%dT%H%M}",
            account_id=account.account_ref,
            reference=str(appointment.id),
            description=_description(tenant, appointment),
            amount_minor=appointment.price_minor,
            currency=appointment.currency,
            customer_email=consumer.email,
            success_url=f"{base}/appointments/{appointment.id}?paid=1",
            cancel_url=f"{base}/appointments/{appointment.id}",
            expires_at=expires,
        ),
    )
    async with database.writing(tenant.id) as db:
        existing = await db.scalar(
            select(Payment).where(Payment.checkout_ref == checkout.checkout_id)
        )
        if existing is None:
            db.add(
                Payment(
                    appointment_id=appointment.id,
                    consumer_id=consumer.id,
                    plugin=plugin,
                    account_ref=account.account_ref,
                    checkout_ref=checkout.checkout_id,
                    checkout_url=checkout.url,
                    amount_minor=appointment.price_minor,
                    currency=appointment.currency,
                    application_fee_minor=checkout.application_fee_minor,
                    status=PaymentStatus.OPEN.value,
                    created_at=now,
                    expires_at=checkout.expires_at,
                )
            )
        held = await db.get(Appointment, (tenant.id, appointment.id))
        if held is not None and held.hold_expires_at is not None:
            held.hold_expires_at = max(held.hold_expires_at, checkout.expires_at + HOLD_MARGIN)
        await db.commit()
    return checkout.url


@subscribe(APPOINTMENT_CANCELLED)
async def settle_cancellation(db: AsyncSession, happened: Happened) -> None:
    """Refund what the policy gives back and close unpaid checkouts."""
    tenant, appointment_id = happened.tenant, uuid.UUID(happened.payload["appointment_id"])
    appointment = await db.get(Appointment, (tenant.id, appointment_id))
    if appointment is None:
        return
    by_clinic = bool(happened.payload["by_clinic"])
    when = happened.now
    for payment in await payments_of(db, appointment.id):
        if payment.status == PaymentStatus.OPEN.value:
            outbox.enqueue(db, tenant.id, EXPIRE_TOPIC, {"payment_id": str(payment.id)})
        elif payment.status == PaymentStatus.PAID.value:
            amount = refund_due(
                tenant, appointment.starts_at, payment.amount_minor, now=when, by_clinic=by_clinic
            )
            if amount > 0:
                who = "the clinic" if by_clinic else "the consumer"
                queue_refund(db, tenant, payment, amount, f"cancelled by {who}")


@subscribe(APPOINTMENT_RESCHEDULED)
async def close_outdated_checkout(db: AsyncSession, happened: Happened) -> None:
    """An unpaid appointment moved: its open payment page names the old time, so it is closed
    (here at once, at the provider by the outbox) and "Pay" makes one for the new time."""
    if happened.payload["confirmed"]:
        return  # paid already: the payment stays with the appointment
    appointment_id = uuid.UUID(happened.payload["appointment_id"])
    for payment in await payments_of(db, appointment_id):
        if payment.status == PaymentStatus.OPEN.value:
            # Expired here first, so the provider's own "expired" webhook releases nothing.
            payment.status = PaymentStatus.EXPIRED.value
            payload = {"payment_id": str(payment.id), "outdated": True}
            outbox.enqueue(db, happened.tenant.id, EXPIRE_TOPIC, payload)


async def refunded_for(db: AsyncSession, appointment_id: uuid.UUID) -> int:
    """What is being given back for an appointment (requested, pending or made)."""
    refunds = await db.scalars(
        select(PaymentRefund)
        .join(Payment, Payment.id == PaymentRefund.payment_id)
        .where(
            Payment.appointment_id == appointment_id,
            PaymentRefund.status != RefundStatus.FAILED.value,
        )
    )
    return sum(refund.amount_minor for refund in refunds)


def queue_refund(
    db: AsyncSession, tenant: TenantInfo, payment: Payment, amount: int, reason: str
) -> None:
    refund = PaymentRefund(
        id=uuid.uuid4(),
        payment_id=payment.id,
        amount_minor=amount,
        reason=reason,
        status=RefundStatus.REQUESTED.value,
    )
    db.add(refund)
    outbox.enqueue(db, tenant.id, REFUND_TOPIC, {"refund_id": str(refund.id)})


@handles(REFUND_TOPIC)
async def refund(job: Job) -> None:
    refund_id = uuid.UUID(job.payload["refund_id"])
    async with job.reading() as db:
        row = await db.get(PaymentRefund, (job.tenant.id, refund_id))
        payment = await db.get(Payment, (job.tenant.id, row.payment_id)) if row else None
    if row is None or payment is None or row.status != RefundStatus.REQUESTED.value:
        return
    if payment.payment_ref is None:
        raise Conflict("the payment has no provider id to refund against")
    result = await job.providers.payments.refund(
        subject_id=payment.consumer_id,
        idempotency_key=job.key,
        account_id=payment.account_ref,
        payment_id=payment.payment_ref,
        amount_minor=row.amount_minor,
        attempt=job.attempt,
    )
    async with job.writing() as db:
        row = await db.get(PaymentRefund, (job.tenant.id, refund_id))
        payment = await db.get(Payment, (job.tenant.id, payment.id))
        assert row is not None and payment is not None
        row.refund_ref = result.refund_id
        row.status = result.status
        row.updated_at = utcnow()
        if result.status != RefundStatus.FAILED.value:
            payment.refunded_minor += row.amount_minor
            whole = payment.refunded_minor >= payment.amount_minor
            payment.status = (
                PaymentStatus.REFUNDED if whole else PaymentStatus.PARTIALLY_REFUNDED
            ).value
        await job.done(db)
        await db.commit()


@handles(EXPIRE_TOPIC)
async def expire_checkout(job: Job) -> None:
    async with job.reading() as db:
        payment = await db.get(Payment, (job.tenant.id, uuid.UUID(job.payload["payment_id"])))
    closing = {PaymentStatus.OPEN.value}
    if job.payload.get("outdated"):  # marked expired when its appointment moved
        closing.add(PaymentStatus.EXPIRED.value)
    if payment is None or payment.status not in closing:
        return
    await job.providers.payments.expire_checkout(
        account_id=payment.account_ref, checkout_id=payment.checkout_ref
    )


@applies(PaymentEvent)
async def apply_event(
    db: AsyncSession, tenant: TenantInfo, plugin: str, event: PaymentEvent, now: datetime
) -> None:
    """The effect of one verified payments webhook, in the webhook's transaction."""
    if event.type == "account_updated":
        account = await db.scalar(
            select(PaymentAccount).where(
                PaymentAccount.plugin == plugin, PaymentAccount.account_ref == event.account_id
            )
        )
        if account is not None:
            account.charges_enabled = bool(event.charges_enabled)
            account.details_submitted = bool(event.details_submitted)
            account.updated_at = now
        return
    if event.type == "refund_updated":
        await _refund_updated(db, tenant, event, now=now)
        return
    if event.type == "checkout_paid" and await _paid_in_time(db, tenant, plugin, event, now=now):
        return
    # Locked: an "expired" and a "completed" for one checkout handled at once take turns.
    payment = await db.scalar(
        select(Payment)
        .where(Payment.plugin == plugin, Payment.checkout_ref == event.checkout_id)
        .with_for_update()
    )
    if payment is None or payment.account_ref != event.account_id:
        return  # not ours: another tenant's, or a checkout this platform did not make
    appointment = await db.get(Appointment, (tenant.id, payment.appointment_id))
    if event.type == "checkout_paid":
        await _paid(db, tenant, payment, appointment, event, now=now)
    elif payment.status == PaymentStatus.OPEN.value:  # expired or failed before it was paid
        failed = event.type == "checkout_failed"
        payment.status = (PaymentStatus.FAILED if failed else PaymentStatus.EXPIRED).value
        if (
            appointment is not None
            and appointment.status == AppointmentStatus.AWAITING_PAYMENT.value
        ):
            await release(db, appointment, now=now)


async def _refund_updated(
    db: AsyncSession, tenant: TenantInfo, event: PaymentEvent, *, now: datetime
) -> None:
    """A refund settles later: one that finally fails gives the payment its money back."""
    row = await db.scalar(select(PaymentRefund).where(PaymentRefund.refund_ref == event.refund_id))
    if row is None or not event.refund_status:
        return
    status = _REFUND_WORDS.get(event.refund_status, event.refund_status)[:16]
    counted = row.status in (RefundStatus.PENDING.value, RefundStatus.SUCCEEDED.value)
    if status == RefundStatus.FAILED.value and counted:
        payment = await db.get(Payment, (tenant.id, row.payment_id))
        if payment is not None:  # it was counted as refunded when it was asked for
            payment.refunded_minor = max(payment.refunded_minor - row.amount_minor, 0)
            payment.status = (
                PaymentStatus.PARTIALLY_REFUNDED if payment.refunded_minor else PaymentStatus.PAID
            ).value
    row.status = status
    row.updated_at = now


async def _paid(
    db: AsyncSession,
    tenant: TenantInfo,
    payment: Payment,
    appointment: Appointment | None,
    event: PaymentEvent,
    *,
    now: datetime,
) -> None:
    if payment.status not in (PaymentStatus.OPEN.value, PaymentStatus.EXPIRED.value):
        return  # already settled by an earlier delivery
    payment.payment_ref = event.payment_id
    payment.paid_at = event.occurred_at
    if not _as_priced(payment, event):
        await _hold_for_staff(db, payment, event, now=now)
        return
    payment.status = PaymentStatus.PAID.value
    if appointment is not None:
        await _paid_for(db, tenant, payment, appointment, now=now)


def _as_priced(payment: Payment, event: PaymentEvent) -> bool:
    """Was exactly the booking's price paid, in its currency? (A signed event is not
    enough: a checkout made elsewhere on the clinic's account can carry our reference.)"""
    paid = (event.amount_minor, (event.currency or "").upper())
    return paid == (payment.amount_minor, payment.currency.upper())


async def _hold_for_staff(
    db: AsyncSession, payment: Payment, event: PaymentEvent, *, now: datetime
) -> None:
    """Neither confirmed nor released: the booking waits for staff, and the ledger says why."""
    payment.status = PaymentStatus.HELD.value
    await ledger.append(
        db,
        Entry(
            kind=EventKind.PAYMENT,
            status=Status.RECORDED,
            recipient="the clinic's staff",
            recipient_kind=RecipientKind.OTHER,
            operation=HELD_OPERATION,
            categories=("payment",),
            purpose="a payment that differs from the booking's price, held for staff to check",
            legal_basis="contract",
            subject_id=payment.consumer_id,
            plugin=payment.plugin,
            correlation_id=str(payment.id),
            reason=_mismatch(payment, event)[:500],
        ),
        now=now,
    )


def _mismatch(payment: Payment, event: PaymentEvent) -> str:
    """What was paid against what was asked, in words staff read (amounts, never a card)."""
    price = money(payment.amount_minor, payment.currency)
    currency = (event.currency or "")[:8]
    if event.amount_minor is None or not currency:
        return f"The provider did not say what was paid; the booking's price is {price}."
    return f"Paid {money(event.amount_minor, currency)}; the booking's price is {price}."


@dataclass(frozen=True)
class HeldPayment:
    payment: Payment
    appointment: Appointment | None
    why: str  # from the ledger: what was paid against the price


async def held_payments(db: AsyncSession) -> list[HeldPayment]:
    """Payments held for staff, newest first, each with its booking and why it was held."""
    held = list(
        await db.scalars(
            select(Payment)
            .where(Payment.status == PaymentStatus.HELD.value)
            .order_by(Payment.paid_at.desc())
            .limit(100)
        )
    )
    if not held:
        return []
    recorded = await db.execute(
        select(LedgerEvent.correlation_id, LedgerEvent.reason).where(
            LedgerEvent.kind == EventKind.PAYMENT.value,
            LedgerEvent.operation == HELD_OPERATION,
            LedgerEvent.correlation_id.in_([str(p.id) for p in held]),
        )
    )
    why = {str(row[0]): str(row[1]) for row in recorded}
    return [
        HeldPayment(
            payment,
            await db.get(Appointment, (payment.tenant_id, payment.appointment_id)),
            why.get(str(payment.id), ""),
        )
        for payment in held
    ]


async def _paid_for(
    db: AsyncSession,
    tenant: TenantInfo,
    payment: Payment,
    appointment: Appointment,
    *,
    now: datetime,
) -> None:
    awaiting = appointment.status == AppointmentStatus.AWAITING_PAYMENT.value
    released = appointment.status == AppointmentStatus.RELEASED.value
    if awaiting or (released and await hold_again(db, tenant, appointment)):
        await outbox.add_jobs(db, await confirm(db, tenant, appointment, now=now, paid=True))
    elif appointment.status != AppointmentStatus.BOOKED.value:
        # Paid for a time that is gone (cancelled, or re-booked by someone else): all back.
        queue_refund(db, tenant, payment, payment.amount_minor, "paid after the time was released")
    elif await _paid_before(db, payment):
        # Both the page of a moved appointment's old time and its new one were paid.
        queue_refund(db, tenant, payment, payment.amount_minor, "the appointment was paid already")


async def _paid_before(db: AsyncSession, payment: Payment) -> bool:
    """Another payment of the same appointment was taken (and not all given back)."""
    kept = (PaymentStatus.PAID.value, PaymentStatus.PARTIALLY_REFUNDED.value)
    other = await db.scalar(
        select(Payment.id).where(
            Payment.appointment_id == payment.appointment_id,
            Payment.id != payment.id,
            Payment.status.in_(kept),
        )
    )
    return other is not None


async def _paid_in_time(
    db: AsyncSession, tenant: TenantInfo, plugin: str, event: PaymentEvent, *, now: datetime
) -> bool:
    """The usual case, in two statements: an open checkout is paid while its time is held.
    False, with nothing changed, if it is anything else (the general path decides)."""
    paid = await rows.mark_paid(db, plugin, event)
    if paid is None:
        return False
    mode = await rows.confirm_held(db, paid.appointment_id, now=now)
    if mode is not None:
        jobs = await confirmation_jobs(db, tenant, paid.appointment_id, mode, now=now, paid=True)
        await outbox.add_jobs(db, jobs)
        return True
    payment = await db.get(Payment, (tenant.id, paid.id))  # paid, but the time is not held
    appointment = await db.get(Appointment, (tenant.id, paid.appointment_id))
    if payment is not None and appointment is not None:
        await _paid_for(db, tenant, payment, appointment, now=now)
    return True


async def release_unpaid(db: AsyncSession, tenant: TenantInfo, *, now: datetime) -> int:
    """An idempotent scan: unpaid holds past their time go back to the diary."""
    held_for_staff = select(Payment.appointment_id).where(
        Payment.status == PaymentStatus.HELD.value
    )
    stale = list(
        await db.scalars(
            select(Appointment).where(
                Appointment.status == AppointmentStatus.AWAITING_PAYMENT.value,
                Appointment.hold_expires_at < now,
                Appointment.id.not_in(held_for_staff),  # staff decide those
            )
        )
    )
    for appointment in stale:
        await release(db, appointment, now=now)
        for payment in await payments_of(db, appointment.id):
            if payment.status == PaymentStatus.OPEN.value:
                outbox.enqueue(db, tenant.id, EXPIRE_TOPIC, {"payment_id": str(payment.id)})
    return len(stale)


async def connect_clinic(
    database: Database, facade: Facade, tenant: TenantInfo, *, site_url: str
) -> str:
    """The provider's onboarding page for the clinic's own account (made on first use)."""
    plugin = (await facade.built("payments")).manifest.name
    async with database.reading(tenant.id) as db:
        account = await clinic_account(db, plugin)
    if account is None:
        region = tenant.locale.rsplit("_", 1)[-1] if "_" in tenant.locale else "GB"
        created = await facade.payments.create_account(
            idempotency_key=f"account-{tenant.id}", country=region
        )
        async with database.writing(tenant.id) as db:
            account = await clinic_account(db, plugin)
            if account is None:
                account = PaymentAccount(
                    plugin=plugin,
                    account_ref=created.account_id,
                    professional_id=None,
                    charges_enabled=created.charges_enabled,
                    details_submitted=created.details_submitted,
                )
                db.add(account)
            await db.commit()
    link = await facade.payments.onboarding_link(
        account_id=account.account_ref,
        return_url=f"{site_url}/admin/payments?returned=1",
        refresh_url=f"{site_url}/admin/payments",
    )
    return link.url
