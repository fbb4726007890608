"""The hottest writes' round trips, counted exactly: a booking and a paid checkout's webhook.

The benchmarks (bench/README.md) show that each statement costs about the same as the bare
write they are measured against, so a statement added here shows up there at once; this
catches it deterministically, in every test run, where the ratios are noisy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from praxis.core.runtime import Runtime
from tests.functional.flows import book, open_checkout, signed_in
from tests.provider_fixtures import Providers
from tests.support import Clinic, booking_form, csrf_in, first_free_slot, login


@contextmanager
def round_trips(rt: Runtime) -> Iterator[list[str]]:
    """The first word of every statement sent, with each BEGIN and COMMIT."""
    seen: list[str] = []
    engine = rt.database.engine.sync_engine
    postgres = engine.dialect.name == "postgresql"

    def statement(_c: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql.split(None, 1)[0].upper())

    def begin(_c: Any) -> None:
        seen.append("BEGIN")  # SQLite's BEGIN is a statement of its own (core.db)

    def commit(_c: Any) -> None:
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    if postgres:
        event.listen(engine, "begin", begin)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
        if postgres:
            event.remove(engine, "begin", begin)


def _rls(rt: Runtime) -> list[str]:
    """PostgreSQL sets the tenant for row-level security at the start of a transaction."""
    return ["SELECT"] if rt.database.engine.dialect.name == "postgresql" else []


async def test_a_booking_is_one_transaction_of_ten_round_trips(
    client: Any, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.consumer.username)
    for _ in range(2):  # the first booking of a clinic also starts its ledger chain
        start = await first_free_slot(client, clinic)
        page = await client.get("/")
        form = {"csrf_token": csrf_in(page.text), **booking_form(clinic, start)}
        with round_trips(rt) as seen:
            response = await client.post("/appointments", data=form)
        assert response.status_code == 303 and response.headers["location"] == "/appointments"
    # The session, the bookable type, the day's diary; the appointment, its holds; the
    # ledger head, the event, the head moved on. A clinic with messages or video adds one
    # INSERT for all of its outbox jobs.
    reads, writes = ["SELECT"] * 3, ["INSERT", "INSERT", "SELECT", "INSERT", "UPDATE"]
    assert seen == ["BEGIN", *_rls(rt), *reads, *writes, "COMMIT"]


async def test_a_paid_checkout_webhook_is_one_transaction_of_six_round_trips(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic)
    providers.stripe.pay(await open_checkout(consumer, appointment_id))
    with round_trips(rt) as seen:
        await providers.deliver_new(consumer, "stripe")
    # The event (its key refuses a replay), the payment, the appointment, the jobs.
    assert seen == ["BEGIN", *_rls(rt), "INSERT", "UPDATE", "UPDATE", "INSERT", "COMMIT"]
