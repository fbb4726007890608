"""Inbound webhooks through the app (/-/plugins/<name>/webhook, core.inbound): verified on the
raw body before anything is read, stored once by event id in the transaction of their effect,
and harmless when forged, replayed ten at once, or delivered out of order."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core.booking.models import Appointment
from praxis.core.db import utcnow
from praxis.core.ledger import LedgerEvent
from praxis.core.notifications.models import SentMessage
from praxis.core.payments.models import Payment, PaymentRefund
from praxis.core.payments.services import REFUND_TOPIC
from praxis.core.runtime import Runtime
from praxis.core.sandbox.harness import Delivery
from praxis.core.sandbox.stripe import FakeStripe
from praxis.core.sandbox.whereby import sign as whereby_sign
from praxis.core.video.models import Attendance
from praxis.core.webhooks import WebhookEvent
from praxis.core.worker import scan_appointments
from tests.conftest import client_for
from tests.functional.flows import (
    appointment,
    book,
    book_and_pay,
    jobs,
    open_checkout,
    set_policy,
)
from tests.functional.test_booking_journey import holds_of
from tests.provider_fixtures import STRIPE_WEBHOOK_SECRET, WHEREBY_SECRET, Providers, use_providers
from tests.support import Clinic, count_rows, login, make_consumer

STRIPE = "/-/plugins/payments_stripe/webhook"
REJECTED = "Rejected: the webhook could not be verified."


async def signed_in(app: Any, clinic: Clinic, username: str | None = None) -> httpx.AsyncClient:
    client = client_for(app, clinic.host)
    await login(client, username or clinic.consumer.username)
    return client


async def snapshot(rt: Runtime, clinic: Clinic) -> dict[str, Any]:
    """Everything a webhook could change, to compare before and after."""
    async with rt.database.reading(clinic.tenant.id) as db:
        appointments = (await db.execute(select(Appointment.id, Appointment.status))).all()
        payments = (await db.execute(select(Payment.id, Payment.status))).all()
        sent = (await db.execute(select(SentMessage.id, SentMessage.status))).all()
    return {
        "appointments": sorted(appointments),
        "payments": sorted(payments),
        "sent": sorted(sent),
        "refunds": await count_rows(rt, clinic, PaymentRefund),
        "attendance": await count_rows(rt, clinic, Attendance),
        "webhook_events": await count_rows(rt, clinic, WebhookEvent),
        "ledger": await count_rows(rt, clinic, LedgerEvent),
        "jobs": len(await jobs(rt, clinic)),
    }


def only(deliveries: list[Delivery], marker: bytes) -> Delivery:
    [found] = [d for d in deliveries if marker in d.body]
    return found


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != name}


def stripe_signed(body: bytes, *, secret: str = STRIPE_WEBHOOK_SECRET, age: int = 0) -> Delivery:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": FakeStripe.sign(body, secret, int(time.time()) - age),
    }
    return Delivery("http://alpha.localhost" + STRIPE, headers, body)


def stripe_event_like(delivery: Delivery, kind: str, **session: Any) -> Delivery:
    """Another event about the same checkout session, signed as Stripe would sign it."""
    event = json.loads(delivery.body)
    event.update(id=f"evt_{uuid.uuid4().hex[:24]}", type=kind, created=int(time.time()))
    event["data"]["object"].update(session)
    return stripe_signed(json.dumps(event).encode())


# Each a webhook that must be answered 400 and change nothing.
FORGERIES: dict[str, Callable[[Delivery], Delivery]] = {
    "a bad signature": lambda d: replace(
        d,
        headers={
            **without(d.headers, "stripe-signature"),
            "Stripe-Signature": d.headers["Stripe-Signature"][:-4] + "0000",
        },
    ),
    "another secret's signature": lambda d: stripe_signed(d.body, secret="whsec_someone_else"),
    "a stale timestamp": lambda d: stripe_signed(d.body, age=301),
    "no signature header": lambda d: replace(d, headers=without(d.headers, "stripe-signature")),
    "a body changed after signing": lambda d: replace(
        d, body=d.body.replace(b'"payment_status": "paid"', b'"payment_status": "paid" ')
    ),
    "malformed JSON, validly signed": lambda d: stripe_signed(d.body[:-10]),
    "JSON that is no event, validly signed": lambda d: stripe_signed(b'{"object": "list"}'),
}


# --- rejected and unknown -------------------------------------------------------------------


async def test_a_forged_or_malformed_webhook_is_rejected_and_changes_nothing(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = await signed_in(app, clinic)
    appointment_id = await book(client, clinic, days_ahead=2)
    providers.stripe.pay(await open_checkout(client, appointment_id))
    completed = only(providers.stripe.webhooks.deliveries, b'"checkout.session.completed"')
    before = await snapshot(rt, clinic)
    for name, forge in FORGERIES.items():
        forged = forge(completed)
        assert (forged.headers, forged.body) != (completed.headers, completed.body), name
        answer = await providers.deliver(client, forged)
        assert (answer.status_code, answer.text) == (400, REJECTED), name
        assert await snapshot(rt, clinic) == before, name
    assert (await appointment(rt, clinic, appointment_id)).status == "awaiting_payment"
    # The genuine delivery has the effect the forgeries tried to have.
    assert (await providers.deliver(client, completed)).status_code == 200
    assert (await appointment(rt, clinic, appointment_id)).status == "booked"


async def test_a_webhook_for_a_plugin_the_clinic_does_not_use_is_not_found(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = client_for(app, clinic.host)
    for path in (
        "/-/plugins/payments_nowhere/webhook",  # not installed
        "/-/plugins/questionnaires/webhook",  # chosen, but takes no webhooks
        "/-/plugins/payments_stripe/webhook/NOT-A-TOPIC",
    ):
        answer = await client.post(path, content=b"{}")
        assert (answer.status_code, answer.text) == (404, "Not found."), path
    # The email plugin takes inbound mail (plugin API 1.1): unsigned, it is refused.
    answer = await client.post("/-/plugins/email_smtp/webhook/status", content=b"{}")
    assert answer.status_code == 400
    # A provider the clinic stopped using still has its settings: its late webhooks are still
    # verified (and an unsigned one refused), so nothing it reports afterwards is lost.
    await use_providers(rt, clinic.tenant.id, {"video": ""})
    answer = await client.post("/-/plugins/video_whereby/webhook", content=b"{}")
    assert answer.status_code == 400
    assert await count_rows(rt, clinic, WebhookEvent) == 0


@pytest.mark.promise("P27")
async def test_a_genuine_webhook_sent_to_another_clinics_address_is_not_found(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic, providers: Providers
) -> None:
    client = await signed_in(app, clinic)
    appointment_id = await book(client, clinic, days_ahead=2)
    providers.stripe.pay(await open_checkout(client, appointment_id))
    completed = only(providers.stripe.webhooks.deliveries, b'"checkout.session.completed"')
    before = await snapshot(rt, clinic)
    async with client_for(app, other_clinic.host) as elsewhere:
        answer = await providers.deliver(elsewhere, completed)
    assert answer.status_code == 404  # beta has no Stripe settings to verify it with
    assert await snapshot(rt, clinic) == before
    assert await count_rows(rt, other_clinic, WebhookEvent) == 0


# --- replays and order ----------------------------------------------------------------------


async def test_ten_concurrent_replays_of_a_payment_confirm_the_booking_once(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = await signed_in(app, clinic)
    appointment_id = await book(client, clinic, days_ahead=2)
    providers.stripe.pay(await open_checkout(client, appointment_id))
    completed = only(providers.stripe.webhooks.deliveries, b'"checkout.session.completed"')
    before = Counter(j.topic for j in await jobs(rt, clinic))

    answers = await asyncio.gather(*(providers.deliver(client, completed) for _ in range(10)))
    assert [a.status_code for a in answers] == [200] * 10
    assert (await providers.deliver(client, completed)).status_code == 200  # and once more
    assert await count_rows(rt, clinic, WebhookEvent) == 1
    booked = await appointment(rt, clinic, appointment_id)
    assert booked.status == "booked" and booked.confirmed_at is not None
    added = Counter(j.topic for j in await jobs(rt, clinic)) - before
    assert added == Counter({"notify.sms": 1, "notify.email": 1, "video.create_meeting": 1})
    async with rt.database.reading(clinic.tenant.id) as db:
        assert [p.status for p in await db.scalars(select(Payment))] == ["paid"]


async def test_an_expiry_arriving_after_the_payment_leaves_the_booking_booked(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = await signed_in(app, clinic)
    appointment_id = await book_and_pay(client, clinic, providers, days_ahead=2)
    completed = only(providers.stripe.webhooks.deliveries, b'"checkout.session.completed"')
    late_expiry = stripe_event_like(completed, "checkout.session.expired", status="expired")
    before = await snapshot(rt, clinic)
    assert (await providers.deliver(client, late_expiry)).status_code == 200
    after = await snapshot(rt, clinic)
    assert after == {**before, "webhook_events": before["webhook_events"] + 1}
    assert (await appointment(rt, clinic, appointment_id)).status == "booked"


async def test_a_payment_after_the_hold_was_released_takes_the_time_back_if_still_free(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    await set_policy(rt, clinic, buffer_minutes=10)
    client = await signed_in(app, clinic)
    appointment_id = await book(client, clinic, days_ahead=2)
    held = await holds_of(rt, clinic, appointment_id)
    session_id = await open_checkout(client, appointment_id)
    await scan_appointments(rt, [clinic.tenant], now=utcnow() + timedelta(hours=1))
    assert (await appointment(rt, clinic, appointment_id)).status == "released"
    assert await holds_of(rt, clinic, appointment_id) == []

    providers.stripe.pay(session_id)  # the consumer was still on the payment page
    await providers.deliver_new(client, "stripe")
    booked = await appointment(rt, clinic, appointment_id)
    assert booked.status == "booked"
    # Held again as booking held it: its time and the clinic's 10-minute buffer after it.
    assert await holds_of(rt, clinic, appointment_id) == held
    assert held[-1] >= booked.ends_at
    assert await count_rows(rt, clinic, PaymentRefund) == 0
    # The diary has the time again: the next person is offered another one.
    someone = await signed_in(app, clinic, (await make_consumer(rt, clinic.tenant, "kim")).username)
    theirs = await appointment(rt, clinic, await book(someone, clinic, days_ahead=2))
    assert theirs.starts_at != booked.starts_at
    assert (await appointment(rt, clinic, appointment_id)).status == "booked"


async def test_a_payment_for_a_time_someone_else_booked_meanwhile_is_refunded_in_full(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = await signed_in(app, clinic)
    late_id = await book(client, clinic, days_ahead=2)
    session_id = await open_checkout(client, late_id)
    await scan_appointments(rt, [clinic.tenant], now=utcnow() + timedelta(hours=1))
    someone = await signed_in(app, clinic, (await make_consumer(rt, clinic.tenant, "kim")).username)
    their_id = await book(someone, clinic, days_ahead=2)  # the same time, free again
    late, theirs = await appointment(rt, clinic, late_id), await appointment(rt, clinic, their_id)
    assert late.starts_at == theirs.starts_at

    providers.stripe.pay(session_id)
    await providers.deliver_new(client, "stripe")
    assert (await appointment(rt, clinic, late_id)).status == "released"
    assert (await appointment(rt, clinic, their_id)).status == "awaiting_payment"
    async with rt.database.reading(clinic.tenant.id) as db:
        [payment] = await db.scalars(select(Payment).where(Payment.appointment_id == late_id))
        [refund] = await db.scalars(select(PaymentRefund))
    assert (payment.status, refund.amount_minor) == ("paid", payment.amount_minor)
    assert [j.status for j in await jobs(rt, clinic, REFUND_TOPIC)] == ["pending"]

    await providers.run_jobs()
    refunded = list(providers.stripe.refunds.values())
    assert [r["amount"] for r in refunded] == [payment.amount_minor]


# --- Twilio and Whereby ---------------------------------------------------------------------


async def test_a_forged_or_misdirected_twilio_status_callback_is_rejected(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic, providers: Providers
) -> None:
    client = await signed_in(app, clinic)
    await book_and_pay(client, clinic, providers, days_ahead=2)
    await providers.run_jobs()
    callbacks = providers.twilio.webhooks.deliveries
    delivered = only(callbacks, b"MessageStatus=delivered")
    status_path = "/-/plugins/sms_twilio/webhook/status"
    assert delivered.url.endswith(status_path)
    before = await snapshot(rt, clinic)

    forged_signature = replace(
        delivered, headers={**delivered.headers, "x-twilio-signature": "c2lnbmF0dXJl"}
    )
    forged_body = replace(delivered, body=delivered.body.replace(b"delivered", b"failed"))
    for name, sent in {
        "a forged signature": forged_signature,
        "a body changed after signing": forged_body,
        "another URL on the same clinic": replace(
            delivered, url=delivered.url.replace("/status", "/inbound")
        ),
        "the URL with a query added": replace(delivered, url=delivered.url + "?replayed=1"),
    }.items():
        answer = await providers.deliver(client, sent)
        assert answer.status_code == 400, name
        assert await snapshot(rt, clinic) == before, name
    async with client_for(app, other_clinic.host) as elsewhere:
        assert (await providers.deliver(elsewhere, delivered)).status_code == 404

    assert (await providers.deliver(client, delivered)).status_code == 200
    async with rt.database.reading(clinic.tenant.id) as db:
        sms = await db.scalar(select(SentMessage).where(SentMessage.channel == "sms"))
    assert sms is not None and sms.status == "delivered"


async def test_a_replayed_whereby_event_records_attendance_once(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = await signed_in(app, clinic)
    await book_and_pay(client, clinic, providers, days_ahead=2)
    await providers.run_jobs()
    [meeting] = providers.whereby.meetings.values()
    await providers.whereby.join(meeting.meeting_id, role="visitor")
    [joined] = providers.whereby.webhooks.deliveries

    stale_at = int(time.time()) - 301
    stale = replace(
        joined,
        headers={
            **without(joined.headers, "whereby-signature"),
            "Whereby-Signature": whereby_sign(WHEREBY_SECRET, joined.body, stale_at),
        },
    )
    assert (await providers.deliver(client, stale)).status_code == 400
    assert await count_rows(rt, clinic, Attendance) == 0

    answers = await asyncio.gather(*(providers.deliver(client, joined) for _ in range(3)))
    assert [a.status_code for a in answers] == [200] * 3
    assert await count_rows(rt, clinic, Attendance) == 1
    async with rt.database.reading(clinic.tenant.id) as db:
        stored = list(await db.scalars(select(WebhookEvent.plugin)))
    assert Counter(stored)["video_whereby"] == 1
