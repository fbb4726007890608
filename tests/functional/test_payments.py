"""Payments on the clinic's own account: connecting it, paying on the provider's page, refunds
by the clinic's policy, unpaid holds released, and no card data anywhere (P09, P10)."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, inspect, select

import praxis.core.models  # noqa: F401  (every table in Base.metadata)
from praxis.core.booking.models import Appointment
from praxis.core.db import Base, utcnow
from praxis.core.ledger import LedgerEvent
from praxis.core.outbox import Job
from praxis.core.payments.models import Payment, PaymentAccount, PaymentRefund
from praxis.core.payments.services import EXPIRE_TOPIC, REFUND_TOPIC
from praxis.core.plugins.settings import put_settings
from praxis.core.providers.common import TemporaryFailure
from praxis.core.runtime import Runtime
from praxis.core.worker import scan_appointments
from tests.functional.flows import (
    CONSUMER_PHONE,
    appointment,
    book,
    book_and_pay,
    free_slot,
    jobs,
    open_checkout,
    pay,
    set_policy,
    signed_in,
    travel_to,
)
from tests.provider_fixtures import (
    STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET,
    FakeStripe,
    Providers,
    payment_account,
    plugin_settings,
)
from tests.support import Clinic, post_form

CARD_WORDS = {"card", "pan", "cvc", "cvv", "cvv2", "expiry", "exp", "iban", "track", "cardholder"}


async def payments_of(rt: Runtime, clinic: Clinic, appointment_id: Any) -> list[Payment]:
    async with rt.database.reading(clinic.tenant.id) as db:
        query = select(Payment).where(Payment.appointment_id == appointment_id)
        return list((await db.scalars(query)).all())


async def refunds(rt: Runtime, clinic: Clinic) -> list[PaymentRefund]:
    async with rt.database.reading(clinic.tenant.id) as db:
        return list((await db.scalars(select(PaymentRefund))).all())


# --- connecting the clinic's account ---------------------------------------------------------


@pytest.mark.promise("P10")
async def test_a_clinic_admin_connects_the_clinics_own_account(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        await db.execute(delete(PaymentAccount))  # start as a clinic that never connected
        await db.commit()
    admin = await signed_in(app, clinic, clinic.admin.username)
    page = await admin.get("/admin/payments")
    assert page.status_code == 200 and "Connect your payment account" in page.text

    connect = await post_form(admin, "/admin/payments/connect", {}, page="/admin/payments")
    assert connect.status_code == 200, connect.text
    link = re.search(r'href="(http://127\.0\.0\.1:\d+/onboarding/(acct_\w+))"', connect.text)
    assert link, connect.text
    account_id = link.group(2)
    created = providers.stripe.requests_to("POST", "/v1/accounts")
    assert len(created) == 1 and created[0].params["type"] == "standard"
    assert created[0].headers["authorization"] == f"Bearer {STRIPE_KEY}"
    assert "stripe-account" not in created[0].headers  # made by the platform, owned by the clinic
    onboarding = providers.stripe.requests_to("POST", "/v1/account_links")[-1].params
    assert onboarding["account"] == account_id
    assert onboarding["return_url"] == "http://alpha.localhost/admin/payments?returned=1"

    # Not ready yet: the page says so, and consumers cannot pay.
    stored = await payment_account(rt, clinic.tenant)
    assert stored is not None and stored.account_ref == account_id
    assert not stored.charges_enabled
    assert "still needs some details" in (await admin.get("/admin/payments")).text
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    refused = await consumer.get(
        f"/professionals/{clinic.professional_id}/book", params={"type": clinic.kinds["Standard"]}
    )
    assert "cannot take payments online yet" in refused.text  # said where it is chosen

    # Continuing reuses the account; onboarding on Stripe's page; its signed webhook.
    again = await post_form(admin, "/admin/payments/connect", {}, page="/admin/payments")
    assert account_id in again.text
    assert len(providers.stripe.requests_to("POST", "/v1/accounts")) == 1
    providers.stripe.complete_onboarding(account_id)
    answers = await providers.deliver_new(admin, "stripe")
    assert len(answers) == 1
    ready = await payment_account(rt, clinic.tenant)
    assert ready is not None and ready.charges_enabled and ready.details_submitted
    shown = await admin.get("/admin/payments")
    assert "Connected and ready" in shown.text and account_id in shown.text
    waiting = await book(consumer, clinic)
    assert (await consumer.get(f"/appointments/{waiting}/pay")).status_code == 200


# --- paying --------------------------------------------------------------------------------


async def test_a_paid_booking_waits_and_only_the_verified_webhook_confirms_it(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic)
    held = await appointment(rt, clinic, appointment_id)
    assert held.status == "awaiting_payment" and held.hold_expires_at is not None
    assert held.confirmed_at is None
    session_id = await open_checkout(consumer, appointment_id)
    assert await providers.run_jobs() == 0  # nothing is confirmed, sent or created yet

    # Coming back from the payment page proves nothing.
    back = await consumer.get(f"/appointments/{appointment_id}?paid=1")
    assert "waiting for the payment provider to confirm" in back.text
    # Nor does a webhook signed with anything but the endpoint's secret.
    providers.stripe.pay(session_id)
    providers.stripe.drain()
    genuine = providers.stripe.webhooks.deliveries[-1]
    forged = {**genuine.headers, "Stripe-Signature": FakeStripe.sign(genuine.body, "whsec_nope")}
    path = "/-/plugins/payments_stripe/webhook"
    rejected = await consumer.post(path, content=genuine.body, headers=forged)
    assert rejected.status_code == 400
    assert (await appointment(rt, clinic, appointment_id)).status == "awaiting_payment"

    # The genuine one confirms it, once, however often it is delivered.
    await providers.deliver_new(consumer, "stripe")
    replay = await providers.deliver(consumer, genuine)
    assert replay.status_code == 200
    booked = await appointment(rt, clinic, appointment_id)
    assert booked.status == "booked" and booked.confirmed_at is not None
    assert booked.hold_expires_at is None
    (payment,) = await payments_of(rt, clinic, appointment_id)
    assert payment.status == "paid" and payment.payment_ref
    assert await providers.run_jobs() == 3  # text, email and the video room, each once
    assert [m.to for m in providers.twilio.messages] == [CONSUMER_PHONE]
    assert (
        "Status: <strong>confirmed</strong>, paid"
        in (await consumer.get(f"/appointments/{appointment_id}")).text
    )


async def test_a_paid_consultation_is_refused_where_it_is_chosen_while_no_account_can_be_paid(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    start = await free_slot(consumer, clinic)  # while the clinic's account is ready
    async with rt.database.writing(clinic.tenant.id) as db:
        [account] = await db.scalars(select(PaymentAccount))
        account.charges_enabled = False  # Stripe disabled its charges (onboarding undone)
        await db.commit()
    said = "Alpha Clinic cannot take payments online yet, so this consultation cannot be booked"

    page = await consumer.get(
        f"/professionals/{clinic.professional_id}/book", params={"type": clinic.kinds["Standard"]}
    )
    assert page.status_code == 200 and said in page.text
    assert 'name="starts_at"' not in page.text  # no time offered to press
    slots = await consumer.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={"consultation_type_id": str(clinic.kinds["Standard"])},
    )
    assert slots.status_code == 409 and said in slots.json()["error"]["message"]
    pressed = await post_form(
        consumer,
        "/appointments",
        {
            "professional_id": str(clinic.professional_id),
            "consultation_type_id": str(clinic.kinds["Standard"]),
            "starts_at": start,
        },
        page="/appointments",
    )
    assert pressed.status_code == 303
    told = await consumer.get(pressed.headers["location"])
    assert said in told.text
    async with rt.database.reading(clinic.tenant.id) as db:
        assert list(await db.scalars(select(Appointment))) == []  # nothing held, nothing sent
    assert providers.stripe.requests_to("POST", "/v1/checkout/sessions") == []


# --- refunds by the clinic's policy --------------------------------------------------------


async def test_cancelling_refunds_by_the_policy_through_the_outbox_once(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    providers: Providers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await set_policy(
        rt, clinic, cancellation_window_hours=0, full_refund_hours=48, late_refund_percent=50
    )
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    early = await book_and_pay(consumer, clinic, providers, days_ahead=4)
    late = await book_and_pay(consumer, clinic, providers, days_ahead=4, skip=4)
    await providers.run_jobs()
    providers.twilio.reset()

    # The first refund's answer is lost before its result is written: the job runs again.
    real_done = Job.done
    lost: list[str] = []

    async def lose_the_first_result(self: Job, db: Any) -> None:
        if self.topic == REFUND_TOPIC and not lost:
            lost.append(self.key)
            raise TemporaryFailure("the worker stopped before writing the result")
        await real_done(self, db)

    monkeypatch.setattr(Job, "done", lose_the_first_result)

    # Exactly full_refund_hours before: all of it back.
    starts = (await appointment(rt, clinic, early)).starts_at
    travel_to(monkeypatch, starts - timedelta(hours=48))
    cancelled = await post_form(
        consumer, f"/appointments/{early}/cancel", {}, page=f"/appointments/{early}"
    )
    assert cancelled.status_code == 303, cancelled.text
    assert await providers.run_jobs() >= 1
    assert lost, "the refund job did not run"
    assert await providers.run_jobs(now=utcnow() + timedelta(hours=2)) >= 1
    (refund_job,) = await jobs(rt, clinic, REFUND_TOPIC)
    assert refund_job.status == "done" and refund_job.attempts == 2
    calls = providers.stripe.requests_to("POST", "/v1/refunds")
    assert [c.headers["idempotency-key"] for c in calls] == [str(refund_job.id)] * 2
    assert [c.replayed for c in calls] == [False, True]
    assert all(c.headers["stripe-account"] == providers.account_id for c in calls)
    assert calls[0].params["amount"] == "4000"
    assert len(providers.stripe.refunds) == 1  # one refund at the provider, not two
    (payment,) = await payments_of(rt, clinic, early)
    assert payment.status == "refunded" and payment.refunded_minor == 4000
    (row,) = await refunds(rt, clinic)
    assert row.status == "succeeded" and row.refund_ref == next(iter(providers.stripe.refunds))
    texts = [m.body for m in providers.twilio.messages]
    assert any("cancelled" in t and "£40.00 will be refunded" in t for t in texts), texts

    # A second later than that: the late share (50 %).
    starts = (await appointment(rt, clinic, late)).starts_at
    travel_to(monkeypatch, starts - timedelta(hours=48) + timedelta(seconds=1))
    await post_form(consumer, f"/appointments/{late}/cancel", {}, page=f"/appointments/{late}")
    await providers.run_jobs()
    assert providers.stripe.requests_to("POST", "/v1/refunds")[-1].params["amount"] == "2000"
    assert len(providers.stripe.refunds) == 2
    (payment,) = await payments_of(rt, clinic, late)
    assert payment.status == "partially_refunded" and payment.refunded_minor == 2000
    page = await consumer.get(f"/appointments/{late}")
    assert "partially refunded" in page.text and "£20.00 refunded" in page.text


async def test_no_refund_is_due_late_when_the_policy_gives_none_back(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    await set_policy(rt, clinic, cancellation_window_hours=0, full_refund_hours=24)
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await providers.run_jobs()
    starts = (await appointment(rt, clinic, appointment_id)).starts_at
    travel_to(monkeypatch, starts - timedelta(hours=2))
    page = f"/appointments/{appointment_id}"
    await post_form(consumer, f"{page}/cancel", {}, page=page)
    await providers.run_jobs()
    assert providers.stripe.requests_to("POST", "/v1/refunds") == []
    assert await jobs(rt, clinic, REFUND_TOPIC) == []
    (payment,) = await payments_of(rt, clinic, appointment_id)
    assert payment.status == "paid" and payment.refunded_minor == 0
    assert not any("refunded" in m.body for m in providers.twilio.messages)


async def test_a_refund_that_fails_later_gives_the_payment_back_its_money(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(providers.stripe, "refund_status", "pending")  # settled days later
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    first = await book_and_pay(consumer, clinic, providers, days_ahead=3)
    second = await book_and_pay(consumer, clinic, providers, days_ahead=3, skip=3)
    await providers.run_jobs()
    for appointment_id in (first, second):
        page = f"/appointments/{appointment_id}"
        await post_form(consumer, f"{page}/cancel", {}, page=page)
    await providers.run_jobs()
    rows = {r.payment_id: r for r in await refunds(rt, clinic)}
    assert {r.status for r in rows.values()} == {"pending"}
    (paid_first,) = await payments_of(rt, clinic, first)
    (paid_second,) = await payments_of(rt, clinic, second)
    assert paid_first.status == paid_second.status == "refunded"

    fails, succeeds = rows[paid_first.id].refund_ref, rows[paid_second.id].refund_ref
    assert fails and succeeds
    providers.stripe.settle_refund(fails, "failed")
    providers.stripe.settle_refund(succeeds, "succeeded")
    await providers.deliver_new(consumer, "stripe")
    await providers.deliver_new(consumer, "stripe")  # nothing new: replays change nothing
    (paid_first,) = await payments_of(rt, clinic, first)
    (paid_second,) = await payments_of(rt, clinic, second)
    assert (paid_first.status, paid_first.refunded_minor) == ("paid", 0)
    assert (paid_second.status, paid_second.refunded_minor) == ("refunded", 4000)
    by_ref = {r.refund_ref: r.status for r in await refunds(rt, clinic)}
    assert by_ref == {fails: "failed", succeeds: "succeeded"}
    assert "refunded" not in (await consumer.get(f"/appointments/{first}")).text


# --- unpaid holds ---------------------------------------------------------------------------


async def test_cancelling_while_awaiting_payment_expires_the_checkout(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    start = await free_slot(consumer, clinic, days_ahead=2)
    appointment_id = await book(consumer, clinic, days_ahead=2)
    session_id = await open_checkout(consumer, appointment_id)
    page = f"/appointments/{appointment_id}"
    cancelled = await post_form(consumer, f"{page}/cancel", {}, page=page)
    assert cancelled.status_code == 303, cancelled.text
    (expiry,) = await jobs(rt, clinic, EXPIRE_TOPIC)
    assert expiry.payload == {
        "payment_id": str((await payments_of(rt, clinic, appointment_id))[0].id)
    }

    await providers.run_jobs()
    calls = providers.stripe.requests_to("POST", f"/v1/checkout/sessions/{session_id}/expire")
    assert len(calls) == 1 and calls[0].headers["stripe-account"] == providers.account_id
    assert providers.stripe.sessions[session_id]["status"] == "expired"
    await providers.deliver_new(consumer, "stripe")
    (payment,) = await payments_of(rt, clinic, appointment_id)
    assert payment.status == "expired"
    assert (await appointment(rt, clinic, appointment_id)).status == "cancelled"
    assert providers.stripe.requests_to("POST", "/v1/refunds") == []
    assert providers.twilio.messages == [] and providers.whereby.meetings == {}
    assert start == await free_slot(consumer, clinic, days_ahead=2)  # free again


async def _move(consumer: Any, appointment_id: Any, starts_at: str) -> None:
    page = f"/appointments/{appointment_id}/reschedule"
    moved = await post_form(consumer, page, {"starts_at": starts_at}, page=page)
    assert moved.status_code == 303, moved.text


def _checkout_names(providers: Providers) -> list[str]:
    made = providers.stripe.requests_to("POST", "/v1/checkout/sessions")
    return [r.params["line_items"][0]["price_data"]["product_data"]["name"] for r in made]


async def test_moving_an_unpaid_appointment_closes_its_old_payment_page_and_offers_a_new_one(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic, days_ahead=2)
    old_session = await open_checkout(consumer, appointment_id)
    later = await free_slot(consumer, clinic, days_ahead=6)
    await _move(consumer, appointment_id, later)
    (old,) = await payments_of(rt, clinic, appointment_id)
    assert old.status == "expired"  # "Pay" no longer leads to the page of the old time
    await providers.run_jobs()
    assert providers.stripe.sessions[old_session]["status"] == "expired"
    await providers.deliver_new(consumer, "stripe")  # Stripe's own "expired" for it
    moved = await appointment(rt, clinic, appointment_id)
    assert moved.status == "awaiting_payment"  # still held, at the new time

    new_session = await open_checkout(consumer, appointment_id)
    assert new_session != old_session
    first, second = _checkout_names(providers)
    day = moved.starts_at.astimezone(clinic.tenant.zone)
    assert f"{day:%H:%M}" in second and first != second  # the page names the new time
    providers.stripe.pay(new_session)
    await providers.deliver_new(consumer, "stripe")
    assert (await appointment(rt, clinic, appointment_id)).status == "booked"
    assert providers.stripe.requests_to("POST", "/v1/refunds") == []


async def test_paying_both_the_old_and_the_new_page_of_a_moved_appointment_refunds_one(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic, days_ahead=2)
    old_session = await open_checkout(consumer, appointment_id)
    await _move(consumer, appointment_id, await free_slot(consumer, clinic, days_ahead=6))
    new_session = await open_checkout(consumer, appointment_id)
    providers.stripe.pay(old_session)  # in another tab, before the old page was closed
    providers.stripe.pay(new_session)
    await providers.deliver_new(consumer, "stripe")
    assert (await appointment(rt, clinic, appointment_id)).status == "booked"
    async with rt.database.reading(clinic.tenant.id) as db:
        (refund,) = await db.scalars(select(PaymentRefund))
    assert refund.reason == "the appointment was paid already"
    await providers.run_jobs()
    assert [r["amount"] for r in providers.stripe.refunds.values()] == [refund.amount_minor]


async def test_a_stale_unpaid_hold_is_released_by_the_scan(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    start = await free_slot(consumer, clinic, days_ahead=2)
    appointment_id = await book(consumer, clinic, days_ahead=2)
    session_id = await open_checkout(consumer, appointment_id)
    held = await appointment(rt, clinic, appointment_id)
    assert held.hold_expires_at is not None
    assert start != await free_slot(consumer, clinic, days_ahead=2)

    assert await scan_appointments(rt, [clinic.tenant], now=held.hold_expires_at) == (0, 0)
    later = held.hold_expires_at + timedelta(seconds=1)
    assert await scan_appointments(rt, [clinic.tenant], now=later) == (0, 1)
    assert await scan_appointments(rt, [clinic.tenant], now=later) == (0, 0)  # idempotent
    released = await appointment(rt, clinic, appointment_id)
    assert released.status == "released"
    assert start == await free_slot(consumer, clinic, days_ahead=2)

    await providers.run_jobs()
    assert providers.stripe.sessions[session_id]["status"] == "expired"
    await providers.deliver_new(consumer, "stripe")
    (payment,) = await payments_of(rt, clinic, appointment_id)
    assert payment.status == "expired"
    assert providers.twilio.messages == []
    assert "not booked" in (await consumer.get(f"/appointments/{appointment_id}")).text


@pytest.mark.parametrize(("field", "value"), [("amount_total", 1), ("currency", "usd")])
async def test_a_signed_paid_event_for_another_amount_or_currency_is_held_for_staff(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, field: str, value: Any
) -> None:
    """The attack of issue 10: a correctly signed "paid" for 1p confirmed a £30 booking."""
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic)
    session_id = await open_checkout(consumer, appointment_id)
    providers.stripe.sessions[session_id][field] = value  # a checkout made to look like ours
    providers.stripe.pay(session_id)
    await providers.deliver_new(consumer, "stripe")

    held = await appointment(rt, clinic, appointment_id)
    assert held.status == "awaiting_payment" and held.confirmed_at is None
    (payment,) = await payments_of(rt, clinic, appointment_id)
    assert payment.status == "held" and payment.payment_ref
    assert await providers.run_jobs() == 0  # no confirmation, no video room
    assert held.hold_expires_at is not None  # and the scan leaves it to staff
    later = held.hold_expires_at + timedelta(seconds=1)
    assert await scan_appointments(rt, [clinic.tenant], now=later) == (0, 0)
    assert (await appointment(rt, clinic, appointment_id)).status == "awaiting_payment"

    async with rt.database.reading(clinic.tenant.id) as db:
        entry = await db.scalar(
            select(LedgerEvent).where(LedgerEvent.correlation_id == str(payment.id))
        )
    assert entry is not None and (entry.kind, entry.operation) == ("payment", "payment_held")
    assert entry.subject_id == clinic.consumer.id
    paid = "£0.01" if field == "amount_total" else "US$"
    assert entry.reason.startswith(f"Paid {paid}") and "price is £" in entry.reason
    assert not CARD_WORDS & set(re.findall(r"[a-z0-9]+", entry.reason.lower()))

    admin = await signed_in(app, clinic, clinic.admin.username)
    page = await admin.get("/admin/payments")
    assert page.status_code == 200
    assert "Payments held for checking" in page.text
    assert entry.reason in html.unescape(page.text)


# --- no card data (P09), the clinic's own account (P10) -----------------------------------------


def _card_like(name: str) -> bool:
    words = set(re.split(r"[_\W]+", name.lower()))
    return bool(words & CARD_WORDS) or "card" in name.lower()


def _keys(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        found = []
        for key, inner in value.items():
            found += [f"{prefix}{key}", *_keys(inner, f"{prefix}{key}.")]
        return found
    if isinstance(value, list):
        return [k for item in value for k in _keys(item, prefix)]
    return []


@pytest.mark.promise("P09")
async def test_no_table_can_hold_card_data_and_no_card_data_is_sent(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    assert _card_like("card_number") and _card_like("pan") and _card_like("exp_month")
    assert not _card_like("expires_at") and not _card_like("company")
    columns = [f"{t.name}.{c.name}" for t in Base.metadata.tables.values() for c in t.columns]
    assert len(columns) > 100
    assert [c for c in columns if _card_like(c.split(".", 1)[1])] == []

    def live_columns(connection: Any) -> list[str]:
        schema = inspect(connection)
        return [
            f"{table}.{column['name']}"
            for table in schema.get_table_names()
            for column in schema.get_columns(table)
        ]

    async with rt.database.engine.connect() as connection:
        migrated = await connection.run_sync(live_columns)
    assert len(migrated) >= len(columns)
    assert [c for c in migrated if _card_like(c.split(".", 1)[1])] == []

    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic)
    pay_page = await consumer.get(f"/appointments/{appointment_id}/pay")
    assert "<input" not in pay_page.text.replace('<input type="hidden" name="csrf_token"', "")
    checkout = re.search(r'href="(http://127\.0\.0\.1:\d+)/checkout/', pay_page.text)
    assert checkout and checkout.group(1) == providers.fakes.url(0)  # the provider's own page
    (request,) = providers.stripe.requests_to("POST", "/v1/checkout/sessions")
    sent = _keys(request.params)
    assert [k for k in sent if _card_like(k.rsplit(".", 1)[-1])] == [], sent
    assert not any(k.startswith("payment_method") for k in sent), sent
    assert "4242" not in json.dumps(request.params)


@pytest.mark.promise("P10")
async def test_the_charge_is_the_clinics_and_the_platform_takes_only_its_fee(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, tmp_path: Any
) -> None:
    stripe_settings = {
        **plugin_settings(providers.fakes, tmp_path)["payments_stripe"],
        "application_fee_percent": "2.5",
    }
    async with rt.database.writing(clinic.tenant.id) as db:
        await put_settings(
            rt.provider_settings,
            db,
            tenant_id=clinic.tenant.id,
            plugin="payments_stripe",
            model=rt.plugins.manifests["payments_stripe"].settings_model,
            values=stripe_settings,
        )
        await db.commit()
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic)
    session_id = await pay(consumer, providers, appointment_id)

    (request,) = providers.stripe.requests_to("POST", "/v1/checkout/sessions")
    assert request.headers["authorization"] == f"Bearer {STRIPE_KEY}"  # the platform's key...
    assert request.headers["stripe-account"] == providers.account_id  # ...acting as the clinic
    intent_data = request.params["payment_intent_data"]
    assert intent_data["application_fee_amount"] == "100"  # 2.5 % of 40.00
    assert "transfer_data" not in intent_data and "on_behalf_of" not in intent_data
    assert "transfer_data" not in request.params and "on_behalf_of" not in request.params
    line = request.params["line_items"][0]["price_data"]
    assert (line["unit_amount"], line["currency"]) == ("4000", "gbp")

    # The charge lives on the clinic's account; the platform's share is only the fee.
    intent_id = providers.stripe.sessions[session_id]["payment_intent"]
    intent = providers.stripe.payment_intents[intent_id]
    assert providers.stripe.owner[intent_id] == providers.account_id
    assert providers.stripe.owner[intent["latest_charge"]] == providers.account_id
    assert (intent["amount"], intent["application_fee_amount"]) == (4000, 100)
    assert intent["transfer_data"] is None and intent["on_behalf_of"] is None
    (payment,) = await payments_of(rt, clinic, appointment_id)
    assert payment.account_ref == providers.account_id
    assert (payment.amount_minor, payment.application_fee_minor) == (4000, 100)
    assert payment.status == "paid" and payment.payment_ref == intent_id
    assert STRIPE_WEBHOOK_SECRET not in (await consumer.get(f"/appointments/{appointment_id}")).text

    # A Professional's own connected account is paid instead of the clinic's, when there is one.
    own = providers.stripe.add_account(ready=True)
    async with rt.database.writing(clinic.tenant.id) as db:
        db.add(
            PaymentAccount(
                plugin="payments_stripe",
                account_ref=own,
                professional_id=clinic.professional_id,
                charges_enabled=True,
                details_submitted=True,
            )
        )
        await db.commit()
    second = await book(consumer, clinic, skip=2)
    await open_checkout(consumer, second)
    latest = providers.stripe.requests_to("POST", "/v1/checkout/sessions")[-1]
    assert latest.headers["stripe-account"] == own
    async with rt.database.reading(clinic.tenant.id) as db:
        assert (await db.get(Appointment, (clinic.tenant.id, second))) is not None
