"""Providers failing as real ones do (outages, throttling, timeouts, lost answers) and workers
dying at the worst moment: nothing is lost, nothing is done twice at the provider, the ledger
shows every attempt, and what finally gives up is in front of the clinic's staff with a way to
try again."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core import outbox
from praxis.core import outbox as jobs
from praxis.core.db import utcnow
from praxis.core.ledger import LedgerEvent
from praxis.core.notifications.models import SentMessage
from praxis.core.outbox import Job, OutboxJob
from praxis.core.payments.models import Payment, PaymentRefund
from praxis.core.payments.services import REFUND_TOPIC
from praxis.core.plugins.facade import SmsCalls
from praxis.core.runtime import Runtime
from praxis.core.video.models import VideoMeeting
from praxis.core.video.services import CREATE_TOPIC
from tests.conftest import client_for
from tests.functional.flows import CONSUMER_PHONE, book_and_pay, events
from tests.functional.flows import jobs as jobs_of
from tests.provider_fixtures import Providers
from tests.support import Clinic, count_rows, csrf_in, login, post_form

SMS_TOPIC = "notify.sms"
P20 = pytest.mark.promise("P20")


class Crash(BaseException):
    """The worker process dies: no handler, no ``except Exception`` sees it."""


async def paid_booking(app: Any, clinic: Clinic, providers: Providers) -> httpx.AsyncClient:
    """The consumer, signed in, with a paid video booking two days away; its confirmation
    jobs (SMS, email, room) are queued and not yet run."""
    client = client_for(app, clinic.host)
    await login(client, clinic.consumer.username)
    await book_and_pay(client, clinic, providers, days_ahead=2)
    return client


async def cancel_paid_booking(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> OutboxJob:
    """A paid booking, its confirmations sent, then cancelled in time: the refund job."""
    client = await paid_booking(app, clinic, providers)
    await providers.run_jobs()
    async with rt.database.reading(clinic.tenant.id) as db:
        [payment] = await db.scalars(select(Payment))
    page = f"/appointments/{payment.appointment_id}"
    cancelled = await post_form(client, f"{page}/cancel", {}, page=page)
    assert cancelled.status_code == 303, cancelled.text
    [refund] = await jobs_of(rt, clinic, REFUND_TOPIC)
    return refund


async def only_job(rt: Runtime, clinic: Clinic, topic: str) -> OutboxJob:
    [found] = await jobs_of(rt, clinic, topic)
    return found


async def hourly_until_settled(rt: Runtime, clinic: Clinic, topic: str, hours: int = 12) -> None:
    """Run the worker once an hour (past any backoff) until the job is done or dead."""
    start = utcnow()
    for hour in range(hours):
        if (await only_job(rt, clinic, topic)).status in ("done", "dead"):
            return
        await jobs.run_due(rt.jobs, now=start + timedelta(hours=hour))


async def disclosures_of(rt: Runtime, clinic: Clinic, job: OutboxJob) -> list[LedgerEvent]:
    return [e for e in await events(rt, clinic) if e.correlation_id == str(job.id)]


def texts_to_consumer(providers: Providers) -> int:
    return len([m for m in providers.twilio.messages if m.to == CONSUMER_PHONE])


# (the fake that fails, the job it fails, what the fake holds once it worked: exactly one)
OUTAGES: dict[str, tuple[str, str, Callable[[Providers], int]]] = {
    "sms": ("twilio", SMS_TOPIC, texts_to_consumer),
    "video": ("whereby", CREATE_TOPIC, lambda p: len(p.whereby.meetings)),
}


# --- outages, throttling, timeouts ----------------------------------------------------------


@P20
@pytest.mark.parametrize("kind", list(OUTAGES))
async def test_an_outage_is_retried_until_the_provider_recovers_and_nothing_is_lost(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, kind: str
) -> None:
    fake, topic, delivered = OUTAGES[kind]
    await paid_booking(app, clinic, providers)
    getattr(providers, fake).faults.fail_next(3)
    await hourly_until_settled(rt, clinic, topic)
    job = await only_job(rt, clinic, topic)
    assert (job.status, job.attempts) == ("done", 4)
    assert delivered(providers) == 1
    # Each attempt is in the ledger before its outcome, and each outcome names its attempt.
    ledger = await disclosures_of(rt, clinic, job)
    assert [e.status for e in ledger] == ["attempted", "failed"] * 3 + ["attempted", "succeeded"]
    for attempt, outcome in zip(ledger[::2], ledger[1::2], strict=True):
        assert outcome.attempt_seq == attempt.seq
    assert all(e.reason for e in ledger if e.status == "failed")


@P20
async def test_a_refund_during_a_payments_outage_is_made_once_when_it_recovers(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    job = await cancel_paid_booking(app, rt, clinic, providers)
    providers.stripe.faults.fail_next(3)
    await hourly_until_settled(rt, clinic, REFUND_TOPIC)
    job = await only_job(rt, clinic, REFUND_TOPIC)
    assert (job.status, job.attempts) == ("done", 4)
    async with rt.database.reading(clinic.tenant.id) as db:
        [payment] = await db.scalars(select(Payment))
        [refund] = await db.scalars(select(PaymentRefund))
    assert [r["amount"] for r in providers.stripe.refunds.values()] == [payment.amount_minor]
    assert (refund.status, payment.status) == ("succeeded", "refunded")
    assert payment.refunded_minor == payment.amount_minor
    keys = {
        r.headers["idempotency-key"] for r in providers.stripe.requests_to("POST", "/v1/refunds")
    }
    assert keys == {str(job.id)}  # every attempt was the same request to Stripe
    ledger = await disclosures_of(rt, clinic, job)
    assert [e.status for e in ledger] == ["attempted", "failed"] * 3 + ["attempted", "succeeded"]


async def test_a_throttled_call_is_retried_no_earlier_than_retry_after(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    await paid_booking(app, clinic, providers)
    providers.twilio.faults.throttle_next(1, retry_after=600)
    start = utcnow()
    await jobs.run_due(rt.jobs, now=start)
    job = await only_job(rt, clinic, SMS_TOPIC)
    assert job.status == "pending" and "429" in job.last_error
    assert job.run_after >= start + timedelta(seconds=600)
    await jobs.run_due(rt.jobs, now=start + timedelta(seconds=599))
    assert (await only_job(rt, clinic, SMS_TOPIC)).attempts == 1  # not a second too early
    assert texts_to_consumer(providers) == 0
    await jobs.run_due(rt.jobs, now=start + timedelta(seconds=601))
    assert (await only_job(rt, clinic, SMS_TOPIC)).status == "done"
    assert texts_to_consumer(providers) == 1


QUICK_TIMEOUT = {"PROVIDER_TIMEOUT_SECONDS": 0.5}


@pytest.mark.parametrize("settings_overrides", [QUICK_TIMEOUT], indirect=True)
@pytest.mark.parametrize("kind", ["no answer from Whereby", "Twilio's answer lost"])
async def test_a_timeout_is_retried_and_the_provider_acts_once(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, kind: str
) -> None:
    await paid_booking(app, clinic, providers)
    if kind == "no answer from Whereby":
        providers.whereby.faults.time_out_next(delay=1.0)
        topic, delivered = CREATE_TOPIC, OUTAGES["video"][2]
    else:  # the text is sent, but its answer arrives after we stopped waiting
        providers.twilio.lose_next_response(delay=1.0)
        topic, delivered = SMS_TOPIC, texts_to_consumer
    start = utcnow()
    await jobs.run_due(rt.jobs, now=start)
    job = await only_job(rt, clinic, topic)
    assert job.status == "pending" and "in time" in job.last_error
    await jobs.run_due(rt.jobs, now=start + timedelta(hours=1))
    assert (await only_job(rt, clinic, topic)).status == "done"
    assert delivered(providers) == 1


# --- crashes --------------------------------------------------------------------------------


def crash_once(monkeypatch: pytest.MonkeyPatch, owner: type, name: str, topic: str) -> list[str]:
    """Make ``owner.name`` kill the worker, once, for the job of ``topic``."""
    real = getattr(owner, name)
    crashed: list[str] = []

    async def dying(self: Any, *args: Any, **kwargs: Any) -> Any:
        about = self if isinstance(self, Job) else None
        if not crashed and (about is None or about.topic == topic):
            crashed.append(name)
            raise Crash(f"the worker was killed in {name}")
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, dying)
    return crashed


async def run_killed_then_again(rt: Runtime) -> None:
    """A worker dies mid-batch; another takes its jobs once their lease has expired."""
    start = utcnow()
    # One job at a time in the dying worker: a real kill takes the process's connections with
    # it, but here a sibling cancelled mid-statement could keep SQLite's write lock until
    # garbage collection (the next worker then waited 20 s for "database is locked").
    dying = dataclasses.replace(rt.jobs, concurrency=1)
    with pytest.raises(BaseExceptionGroup) as killed:  # jobs run in a task group: a group
        await jobs.run_due(dying, now=start)
    assert killed.group_contains(Crash)
    await jobs.drain(rt.jobs, now=start + rt.retry_policy.lease + timedelta(minutes=1))


@pytest.mark.parametrize("kind", ["sms", "video"])
async def test_a_worker_killed_after_the_provider_answered_does_not_act_twice(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    providers: Providers,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    _, topic, delivered = OUTAGES[kind]
    await paid_booking(app, clinic, providers)
    crashed = crash_once(monkeypatch, Job, "done", topic)
    await run_killed_then_again(rt)
    assert crashed == ["done"]
    job = await only_job(rt, clinic, topic)
    assert (job.status, job.attempts) == ("done", 2)
    assert delivered(providers) == 1  # the second attempt found what the first one made
    if kind == "sms":
        assert await count_rows(rt, clinic, SentMessage) == 2  # this text and the email
    else:
        assert await count_rows(rt, clinic, VideoMeeting) == 1
        calls = [(r.method, r.path) for r in providers.whereby.requests]
        assert calls == [("POST", "/v1/meetings"), ("GET", "/v1/meetings")]  # found, not made


async def test_a_worker_killed_after_stripe_refunded_does_not_refund_twice(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    providers: Providers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = await cancel_paid_booking(app, rt, clinic, providers)
    crash_once(monkeypatch, Job, "done", REFUND_TOPIC)
    await run_killed_then_again(rt)
    assert (await only_job(rt, clinic, REFUND_TOPIC)).status == "done"
    sent = providers.stripe.requests_to("POST", "/v1/refunds")
    assert [r.headers["idempotency-key"] for r in sent] == [str(job.id)] * 2
    assert [r.replayed for r in sent] == [False, True]  # Stripe answered the second from memory
    async with rt.database.reading(clinic.tenant.id) as db:
        [payment] = await db.scalars(select(Payment))
    assert len(providers.stripe.refunds) == 1
    assert payment.refunded_minor == payment.amount_minor  # counted once here too


async def test_a_worker_killed_before_sending_sends_once_later(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    providers: Providers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await paid_booking(app, clinic, providers)  # committed with its jobs: they cannot be lost
    crashed = crash_once(monkeypatch, SmsCalls, "send", SMS_TOPIC)
    await run_killed_then_again(rt)
    assert crashed == ["send"]
    assert (await only_job(rt, clinic, SMS_TOPIC)).status == "done"
    assert texts_to_consumer(providers) == 1


# --- giving up, and trying again -------------------------------------------------------------


async def dead_letters_page(admin: httpx.AsyncClient) -> str:
    page = await admin.get("/admin/outbox")
    assert page.status_code == 200, page.text
    return page.text


@pytest.mark.parametrize("settings_overrides", [{"OUTBOX_MAX_ATTEMPTS": 2}], indirect=True)
async def test_a_job_that_gave_up_is_shown_to_staff_and_their_try_again_runs_it(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic, providers: Providers
) -> None:
    await paid_booking(app, clinic, providers)
    providers.twilio.faults.fail_next(2)
    await hourly_until_settled(rt, clinic, SMS_TOPIC)
    job = await only_job(rt, clinic, SMS_TOPIC)
    assert job.status == "dead"
    assert job.last_error.startswith("gave up after 2 attempts: Twilio answered 503")

    admin = client_for(app, clinic.host)
    await login(admin, clinic.admin.username)
    listed = await dead_letters_page(admin)
    assert SMS_TOPIC in listed and "gave up after 2 attempts" in listed
    retry = f"/admin/outbox/{job.id}/retry"
    assert f'action="{retry}"' in listed
    # Another clinic's admin cannot see it, nor bring it back.
    stranger = client_for(app, other_clinic.host)
    await login(stranger, other_clinic.admin.username)
    assert "Nothing has failed." in await dead_letters_page(stranger)
    token = csrf_in(await dead_letters_page(stranger))
    assert (await stranger.post(retry, data={"csrf_token": token})).status_code == 404
    assert (await only_job(rt, clinic, SMS_TOPIC)).status == "dead"

    tried = await admin.post(retry, data={"csrf_token": csrf_in(listed)})
    assert tried.status_code == 303 and tried.headers["location"].startswith("/admin/outbox")
    assert (await only_job(rt, clinic, SMS_TOPIC)).status == "pending"
    assert await providers.run_jobs() == 1
    assert (await only_job(rt, clinic, SMS_TOPIC)).status == "done"
    assert texts_to_consumer(providers) == 1
    assert "Nothing has failed." in await dead_letters_page(admin)


@pytest.mark.parametrize(
    "settings_overrides", [{**QUICK_TIMEOUT, "OUTBOX_MAX_ATTEMPTS": 2}], indirect=True
)
async def test_trying_a_dead_job_again_still_finds_what_an_earlier_attempt_sent(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    await paid_booking(app, clinic, providers)
    providers.twilio.lose_next_response(delay=1.0)  # attempt 1: sent, the answer lost
    start = utcnow()
    await jobs.run_due(rt.jobs, now=start)
    providers.twilio.faults.fail_next(1, status=500)  # attempt 2, the last: an outage
    await jobs.run_due(rt.jobs, now=start + timedelta(hours=1))
    job = await only_job(rt, clinic, SMS_TOPIC)
    assert job.status == "dead" and texts_to_consumer(providers) == 1
    async with rt.database.writing(clinic.tenant.id) as db:
        assert await outbox.retry_dead(db, job.id)
        await db.commit()
    await jobs.run_due(rt.jobs, now=start + timedelta(hours=2))
    assert (await only_job(rt, clinic, SMS_TOPIC)).status == "done"
    assert texts_to_consumer(providers) == 1  # staff's "Try again" did not text twice
