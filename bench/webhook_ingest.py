"""webhook_ingest: signed Stripe webhooks into a clinic, ours against storing the raw body.

ours: ``POST /-/plugins/payments_stripe/webhook`` on ``bench.localhost`` through
``core.app.create_app`` as served: the tenant's provider built from its stored settings,
the Stripe-Signature verified on the raw body (HMAC-SHA256, 300 s tolerance), the event
read, stored once in ``webhook_events`` and applied in the same transaction, answered 200.

The event (``BENCH_WEBHOOK_EVENT``):
  checkout (default)  ``checkout.session.completed``, paid, for one of many open checkouts
                      made beforehand: the payment becomes paid, its appointment booked,
                      and the confirmation's outbox jobs (SMS, email, video room) are
                      written: what every paid booking sends, once.
  account             ``account.updated`` for the clinic's connected account: one row read
                      and updated (the lightest effect there is).

bare: the ``store`` server (bench.servers) storing each raw body in one INSERT and commit.

Every request carries its own event id and a signature made just before its run, so no
delivery is a replay and none is older than the tolerance.

Two lines: ``webhook_ingest`` with both servers on one temp SQLite file, and
``webhook_ingest_postgresql`` with each on a fresh database of its own on the PostgreSQL
server at 127.0.0.1:5432 (bench.postgres; skipped if it does not answer), ours connecting
as the app does (``SET ROLE praxis_app``, row-level security, ``app.tenant_id`` per
transaction).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import postgres
from bench.clinic import (
    HOST,
    SLOT_MINUTES,
    STRIPE_ACCOUNT,
    STRIPE_WEBHOOK_SECRET,
    BenchClinic,
    add_clinic,
)
from bench.common import (
    BenchError,
    Location,
    Workspace,
    note,
    prepare_database,
    servers,
)
from bench.replay import Feed, paired, replay_script, write_lines

NAME = "webhook_ingest"
POSTGRES = f"{NAME}_postgresql"
# Regression guards just below what the webhook path measures (bench/README.md: 0.8 would
# need fewer round trips than a verified, stored-once, applied event takes; the round trips
# are counted exactly in tests/functional/test_round_trips.py).
TARGETS = (0.22, 0.16)  # SQLite, PostgreSQL
LINES = ((NAME, TARGETS[0], True), (POSTGRES, TARGETS[1], True))
EVENT = os.environ.get("BENCH_WEBHOOK_EVENT", "checkout")
PATH = "/-/plugins/payments_stripe/webhook"
CHECKOUTS = 40_000  # open checkouts made beforehand, one per checkout.session.completed
AMOUNT = 4500  # pence: the clinic's paid consultation


def run() -> bool:
    if EVENT not in ("checkout", "account"):
        raise BenchError(f"BENCH_WEBHOOK_EVENT is {EVENT!r}: use checkout or account")
    return postgres.on_both_backends(
        (NAME, POSTGRES), TARGETS, "webhooks", prepare_database, _measure
    )


def _measure(space: Workspace, database: Location, bare_database: Location, label: str) -> float:
    """Seed the bench clinic and its open checkouts into ``database``, then pair ours on
    it with store on ``bare_database`` (which may be the same)."""
    clinic = add_clinic(space, database, professionals=4, consumers=8)
    checkouts = _open_checkouts(database, clinic) if EVENT == "checkout" else []
    make = _events(checkouts)
    total = len(checkouts) if EVENT == "checkout" else 10**9
    feed = Feed(space, "webhooks", total, make)
    headers = {"Host": HOST, "Content-Type": "application/json"}
    common: dict[str, Any] = {"method": "POST", "path": PATH, "headers": headers}
    names = ["Stripe-Signature"]
    ours_script = replay_script(space, "hook-ours", **common, line_headers=names, expect_status=200)
    bare_script = replay_script(space, "hook-bare", **common, line_headers=names, expect_status=201)
    bare_data = space.path / "bare-webhooks.tsv"
    write_lines(bare_data, make(0, 20_000))  # the bare server verifies nothing
    specs = [("ours", database, "ours"), ("store", bare_database, "bare")]
    with servers(space, specs) as (ours, bare):
        ratio = paired(label, ours, ours_script, feed, bare, bare_script, bare_data)
    note(f"{label}{EVENT} events: {feed.position} sent; {_applied(database)}")
    return ratio


def sign(body: str, at: int) -> str:
    """Stripe's scheme: HMAC-SHA256 of "<t>.<body>" under the endpoint's signing secret."""
    digest = hmac.new(STRIPE_WEBHOOK_SECRET.encode(), f"{at}.{body}".encode(), hashlib.sha256)
    return f"t={at},v1={digest.hexdigest()}"


def _events(checkouts: Sequence[tuple[str, str]]) -> Any:
    def make(start: int, stop: int) -> Iterator[Sequence[str]]:
        at = int(time.time())  # signed now: the run starts within the tolerance
        for n in range(start, stop):
            event = _checkout_event(*checkouts[n], at) if checkouts else _account_event(at)
            body = json.dumps(event, separators=(",", ":"))
            yield sign(body, at), body

    return make


def _envelope(kind: str, item: dict[str, Any], at: int) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "account": STRIPE_ACCOUNT,
        "api_version": "2024-06-20",
        "created": at,
        "data": {"object": item},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def _checkout_event(checkout_id: str, appointment_id: str, at: int) -> dict[str, Any]:
    base = f"http://{HOST}/appointments/{appointment_id}"
    session = {
        "id": checkout_id,
        "object": "checkout.session",
        "amount_subtotal": AMOUNT,
        "amount_total": AMOUNT,
        "client_reference_id": appointment_id,
        "created": at - 60,
        "currency": "gbp",
        "customer_details": {"email": "consumer@bench.example", "name": None},
        "expires_at": at + 1740,
        "livemode": False,
        "metadata": {"reference": appointment_id},
        "mode": "payment",
        "payment_intent": f"pi_{checkout_id[8:32]}",
        "payment_method_types": ["card"],
        "payment_status": "paid",
        "status": "complete",
        "success_url": f"{base}?paid=1",
        "cancel_url": base,
    }
    return _envelope("checkout.session.completed", session, at)


def _account_event(at: int) -> dict[str, Any]:
    account = {
        "id": STRIPE_ACCOUNT,
        "object": "account",
        "business_type": "company",
        "charges_enabled": True,
        "country": "GB",
        "default_currency": "gbp",
        "details_submitted": True,
        "payouts_enabled": True,
        "type": "standard",
    }
    return _envelope("account.updated", account, at)


def _open_checkouts(database: Location, clinic: BenchClinic) -> list[tuple[str, str]]:
    """Appointments awaiting payment, their slot holds and open checkouts, as booking and
    ``payments.checkout_url`` leave them, bulk-inserted in one transaction (Core INSERTs
    of the models' own tables, so every value is stored as the app stores it)."""
    from sqlalchemy import create_engine, insert

    from praxis.core.booking.models import Appointment, AppointmentStatus, SlotHold
    from praxis.core.payments.models import Payment, PaymentStatus

    now = datetime.now(UTC).replace(microsecond=0)
    first = now.replace(minute=0, second=0) + timedelta(days=1)
    length = timedelta(minutes=SLOT_MINUTES)
    pros = clinic.professionals
    consumers = list(clinic.consumer_ids.values())
    appointments, holds, payments, refs = [], [], [], []
    for n in range(CHECKOUTS):
        pro = pros[n % len(pros)]
        starts = first + (n // len(pros)) * length
        a_id, consumer = uuid.uuid4(), consumers[n % len(consumers)]
        appointments.append(
            {
                "tenant_id": clinic.tenant_id,
                "id": a_id,
                "professional_id": pro,
                "consumer_id": consumer,
                "consultation_type_id": clinic.paid_kinds[pro],
                "starts_at": starts,
                "ends_at": starts + length,
                "status": AppointmentStatus.AWAITING_PAYMENT.value,
                "mode": "video",
                "price_minor": AMOUNT,
                "currency": "GBP",
                "created_at": now,
                "hold_expires_at": now + timedelta(minutes=35),
            }
        )
        holds.extend(
            {
                "tenant_id": clinic.tenant_id,
                "professional_id": pro,
                "starts_at": starts + timedelta(minutes=5 * k),
                "appointment_id": a_id,
            }
            for k in range(SLOT_MINUTES // 5)
        )
        checkout = f"cs_test_{uuid.uuid4().hex}{uuid.uuid4().hex[:24]}"
        payments.append(
            {
                "tenant_id": clinic.tenant_id,
                "id": uuid.uuid4(),
                "appointment_id": a_id,
                "consumer_id": consumer,
                "plugin": "payments_stripe",
                "account_ref": STRIPE_ACCOUNT,
                "checkout_ref": checkout,
                "checkout_url": f"https://checkout.stripe.com/c/pay/{checkout}",
                "amount_minor": AMOUNT,
                "currency": "GBP",
                "status": PaymentStatus.OPEN.value,
                "created_at": now,
                "expires_at": now + timedelta(minutes=30),
            }
        )
        refs.append((checkout, str(a_id)))
    tables = [(Appointment, appointments), (SlotHold, holds), (Payment, payments)]
    if isinstance(database, str):
        asyncio.run(_insert_postgres(database, tables))
        return refs
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            for model, rows in tables:
                connection.execute(insert(model.__table__), rows)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    return refs


async def _insert_postgres(url: str, tables: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    """The same Core INSERTs on PostgreSQL, as the tables' owner (as a migration or a
    restore writes; row-level security binds the app role, not the owner)."""
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for model, rows in tables:
                await connection.execute(insert(model.__table__), rows)
    finally:
        await engine.dispose()


def _applied(database: Location) -> str:
    queries = {
        "webhook_events": "SELECT count(*) FROM webhook_events",
        "payments paid": "SELECT count(*) FROM payments WHERE status = 'paid'",
        "outbox_jobs": "SELECT count(*) FROM outbox_jobs",
    }
    return postgres.counted(database, queries)
