"""Durable work (core.outbox, core.jobs): a job exists exactly when its transaction commits, a
claim is a lease, temporary failures come back later with capped, jittered backoff, anything
else dead-letters with a reason staff can read, and workers side by side run each job once."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from praxis.core import outbox
from praxis.core import outbox as jobs
from praxis.core.db import utcnow
from praxis.core.errors import Conflict
from praxis.core.outbox import Handler, Job, JobStatus, OutboxJob, RetryPolicy, queue, runner
from praxis.core.providers.common import PermanentFailure, TemporaryFailure
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from tests.conftest import BACKENDS
from tests.support import make_tenant

Register = Callable[[Handler], str]


@pytest.fixture
def register() -> Iterator[Register]:
    """Register a handler under a topic of its own for one test; it is removed afterwards."""
    topics: list[str] = []

    def add(handler: Handler) -> str:
        topic = f"test.{uuid.uuid4().hex[:12]}"
        jobs.handles(topic)(handler)
        topics.append(topic)
        return topic

    yield add
    for topic in topics:
        jobs.HANDLERS.pop(topic, None)


@pytest.fixture
async def tenant(rt: Runtime) -> TenantInfo:
    return await make_tenant(rt, "alpha")


async def enqueue(
    rt: Runtime, tenant: TenantInfo, topic: str, count: int = 1, **options: datetime
) -> list[uuid.UUID]:
    async with rt.database.writing(tenant.id) as db:
        ids = [outbox.enqueue(db, tenant.id, topic, {"n": n}, **options).id for n in range(count)]
        await db.commit()
    return ids


ACROSS = {"platform_scope": True}  # what a worker sees: every clinic's jobs


async def job(rt: Runtime, job_id: uuid.UUID) -> OutboxJob:
    async with rt.database.reading() as db:
        found = await db.get(OutboxJob, job_id, execution_options=ACROSS)
    assert found is not None
    return found


async def every_job(rt: Runtime) -> list[OutboxJob]:
    async with rt.database.reading() as db:
        query = select(OutboxJob).order_by(OutboxJob.topic).execution_options(**ACROSS)
        return list((await db.scalars(query)).all())


async def claim(rt: Runtime, now: datetime, limit: int = 10) -> list[OutboxJob]:
    async with rt.database.writing() as db:
        return await outbox.claim(db, now=now, limit=limit, policy=rt.retry_policy)


# --- written with the change ----------------------------------------------------------------


async def test_a_job_exists_exactly_when_its_transaction_commits(
    rt: Runtime, tenant: TenantInfo
) -> None:
    async with rt.database.writing(tenant.id) as db:
        outbox.enqueue(db, tenant.id, "test.kept", {})
        await db.commit()
        outbox.enqueue(db, tenant.id, "test.rolled_back", {})
        await db.rollback()
    with pytest.raises(RuntimeError):
        async with rt.database.writing(tenant.id) as db:
            outbox.enqueue(db, tenant.id, "test.failed_with_its_change", {})
            await db.flush()
            raise RuntimeError("the business change failed")
    assert [j.topic for j in await every_job(rt)] == ["test.kept"]


# --- claims are leases ----------------------------------------------------------------------


async def test_a_claim_leases_due_jobs_and_counts_the_attempt(
    rt: Runtime, tenant: TenantInfo
) -> None:
    due = await enqueue(rt, tenant, "test.due", 2)
    now = utcnow()
    later = await enqueue(rt, tenant, "test.later", run_after=now + timedelta(hours=1))
    claimed = await claim(rt, now)
    assert {j.id for j in claimed} == set(due)
    for job_id in due:
        row = await job(rt, job_id)
        assert (row.status, row.attempts) == ("running", 1)
        assert row.locked_until == now + rt.retry_policy.lease
    assert (await job(rt, later[0])).status == "pending"
    # While the lease holds, nobody else takes them.
    assert await claim(rt, now + rt.retry_policy.lease - timedelta(seconds=1)) == []


async def test_a_crashed_workers_job_is_claimed_again_once_its_lease_expires(
    rt: Runtime, tenant: TenantInfo
) -> None:
    [job_id] = await enqueue(rt, tenant, "test.crashed")
    now = utcnow()
    [first] = await claim(rt, now)  # ... and the worker dies without a word
    again = now + rt.retry_policy.lease + timedelta(seconds=1)
    [second] = await claim(rt, again)
    assert first.id == second.id == job_id
    row = await job(rt, job_id)
    assert (row.status, row.attempts) == ("running", 2)
    assert row.locked_until == again + rt.retry_policy.lease


# --- backoff --------------------------------------------------------------------------------


def test_backoff_doubles_from_the_base_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = RetryPolicy(base=timedelta(seconds=15), cap=timedelta(minutes=10))
    monkeypatch.setattr(queue, "random", SimpleNamespace(uniform=lambda low, high: high))
    longest = [policy.delay(n).total_seconds() for n in range(1, 9)]
    assert longest == [15, 30, 60, 120, 240, 480, 600, 600]
    monkeypatch.setattr(queue, "random", SimpleNamespace(uniform=lambda low, high: low))
    shortest = [policy.delay(n).total_seconds() for n in range(1, 9)]
    assert shortest == [7.5, 15, 30, 60, 120, 240, 300, 300]


def test_backoff_is_jittered_between_half_and_all_of_the_step() -> None:
    policy = RetryPolicy(base=timedelta(seconds=15), cap=timedelta(hours=1))
    for attempts, step in ((1, 15.0), (4, 120.0), (12, 3600.0)):
        delays = [policy.delay(attempts).total_seconds() for _ in range(500)]
        assert all(step / 2 <= d <= step for d in delays)
        assert max(delays) - min(delays) > step / 4  # spread out, so retries do not stampede


def test_backoff_honours_retry_after_beyond_the_cap_up_to_a_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queue, "random", SimpleNamespace(uniform=lambda low, high: high))
    policy = RetryPolicy(base=timedelta(seconds=15), cap=timedelta(hours=1))
    assert policy.delay(1, at_least=120).total_seconds() == 120
    assert policy.delay(4, at_least=5).total_seconds() == 120  # the backoff is longer
    assert policy.delay(1, at_least=7200).total_seconds() == 7200  # the provider asked for it
    assert policy.delay(1, at_least=10 * 86_400).total_seconds() == 86_400  # not believed


# --- what a handler's outcome does to its job ----------------------------------------------


async def test_a_temporary_failure_is_retried_after_the_backoff_with_its_reason_kept(
    rt: Runtime, tenant: TenantInfo, register: Register
) -> None:
    attempts: list[int] = []

    async def flaky(job: Job) -> None:
        attempts.append(job.attempt)
        if job.attempt == 1:
            raise TemporaryFailure("the provider is down for maintenance")

    [job_id] = await enqueue(rt, tenant, register(flaky))
    now = utcnow() + timedelta(days=1)  # the worker's clock, not the wall's, decides
    assert await jobs.run_due(rt.jobs, now=now) == 1
    row = await job(rt, job_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "the provider is down for maintenance"
    assert now + timedelta(seconds=7.5) <= row.run_after <= now + timedelta(seconds=15)
    assert await jobs.run_due(rt.jobs, now=now + timedelta(seconds=5)) == 0  # still backing off
    assert await jobs.run_due(rt.jobs, now=now + timedelta(seconds=16)) == 1
    row = await job(rt, job_id)
    assert (row.status, row.attempts, attempts) == ("done", 2, [1, 2])
    assert row.finished_at is not None and row.locked_until is None


class Unexpected(Exception):
    pass


@pytest.mark.parametrize(
    ("raised", "reason"),
    [
        (
            PermanentFailure("Twilio refused the message (Twilio error 21211, HTTP 400)"),
            "Twilio refused the message (Twilio error 21211, HTTP 400)",
        ),
        (
            Conflict("The payment has no provider id to refund against."),
            "The payment has no provider id to refund against.",
        ),
        (KeyError("+447911123456"), "unexpected error in {topic} (KeyError)"),
        (Unexpected("Sam Example's notes"), "unexpected error in {topic} (Unexpected)"),
    ],
    ids=["permanent failure", "service error", "key error", "bug"],
)
async def test_a_job_that_cannot_succeed_is_a_dead_letter_with_a_readable_reason(
    rt: Runtime, tenant: TenantInfo, register: Register, raised: Exception, reason: str
) -> None:
    ran: list[int] = []

    async def refused(job: Job) -> None:
        ran.append(job.attempt)
        raise raised

    topic = register(refused)
    [job_id] = await enqueue(rt, tenant, topic)
    assert await jobs.run_due(rt.jobs) == 1
    row = await job(rt, job_id)
    assert (row.status, row.last_error) == ("dead", reason.format(topic=topic))
    assert row.finished_at is not None
    async with rt.database.reading(tenant.id) as db:
        assert [j.id for j in await outbox.dead_letters(db)] == [job_id]
    assert await jobs.drain(rt.jobs, now=utcnow() + timedelta(days=1)) == 0  # never again by itself
    assert ran == [1]


async def test_a_job_that_keeps_failing_is_dead_after_the_last_attempt(
    rt: Runtime, tenant: TenantInfo, register: Register
) -> None:
    ran: list[int] = []

    async def down(job: Job) -> None:
        ran.append(job.attempt)
        raise TemporaryFailure("Whereby failed to create the meeting (503)")

    [job_id] = await enqueue(rt, tenant, register(down))
    start = utcnow()
    limit = rt.retry_policy.max_attempts
    for hour in range(limit + 2):  # each hour is past the longest backoff
        await jobs.run_due(rt.jobs, now=start + timedelta(hours=hour))
    assert ran == list(range(1, limit + 1))
    row = await job(rt, job_id)
    assert row.status == "dead"
    assert row.last_error == (
        f"gave up after {limit} attempts: Whereby failed to create the meeting (503)"
    )


async def test_retrying_a_dead_job_brings_it_back_once(
    rt: Runtime, tenant: TenantInfo, register: Register
) -> None:
    ran: list[int] = []

    async def fixed_later(job: Job) -> None:
        ran.append(job.attempt)
        if len(ran) == 1:
            raise PermanentFailure("Twilio rejected the Account SID or Auth Token")

    [job_id] = await enqueue(rt, tenant, register(fixed_later))
    other = await make_tenant(rt, "beta")
    await jobs.run_due(rt.jobs)
    async with rt.database.writing(other.id) as db:
        assert await outbox.retry_dead(db, job_id) is False  # not theirs to retry
    async with rt.database.writing(tenant.id) as db:
        assert await outbox.retry_dead(db, job_id) is True
        assert await outbox.retry_dead(db, job_id) is False  # no longer dead
        await db.commit()
    row = await job(rt, job_id)
    assert (row.status, row.attempts, row.finished_at) == ("pending", 1, None)
    assert await jobs.drain(rt.jobs) == 1
    assert ran == [1, 2]  # a retry: the provider looks for what the first attempt did
    assert (await job(rt, job_id)).status == "done"


@pytest.mark.parametrize("late", [TemporaryFailure("timed out"), PermanentFailure("refused")])
async def test_a_worker_whose_lease_expired_cannot_undo_what_another_worker_finished(
    rt: Runtime, tenant: TenantInfo, register: Register, late: Exception
) -> None:
    async def slow_then_fine(job: Job) -> None:
        if job.attempt == 1:
            raise late  # the first worker took longer than its lease, then failed

    [job_id] = await enqueue(rt, tenant, register(slow_then_fine))
    now = utcnow()
    [stale] = await claim(rt, now)
    after_lease = now + rt.retry_policy.lease + timedelta(seconds=1)
    assert await jobs.run_due(rt.jobs, now=after_lease) == 1  # a second worker does it
    assert (await job(rt, job_id)).status == "done"
    await jobs.run_one(rt.jobs, stale)  # the first worker comes back
    row = await job(rt, job_id)
    assert (row.status, row.attempts, row.last_error) == ("done", 2, "")
    assert await jobs.drain(rt.jobs, now=after_lease + timedelta(days=1)) == 0


# --- several workers side by side -----------------------------------------------------------


async def test_a_worker_leaves_the_rest_of_its_batch_once_its_lease_has_run_out(
    rt: Runtime, tenant: TenantInfo, register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = rt.retry_policy.lease.total_seconds()
    clock = [0.0]
    monkeypatch.setattr(runner, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    ran: list[uuid.UUID] = []

    async def slow_first(job: Job) -> None:
        ran.append(job.id)
        if len(ran) == 1:
            clock[0] += lease  # this one took the whole lease (a provider hanging, say)

    ids = await enqueue(rt, tenant, register(slow_first), 3)
    one_at_a_time = dataclasses.replace(rt.jobs, concurrency=1)
    assert await jobs.run_due(one_at_a_time) == 3
    [first] = ran  # the others may be another worker's by now: not started here
    statuses = {i: (await job(rt, i)).status for i in ids}
    assert statuses == {i: "done" if i == first else "running" for i in ids}
    # Once their lease is over, a worker (this one, or another) runs them, once each.
    await jobs.run_due(rt.jobs, now=utcnow() + rt.retry_policy.lease + timedelta(seconds=1))
    assert Counter(ran) == Counter(ids)
    assert {(await job(rt, i)).status for i in ids} == {"done"}


async def test_a_clinic_whose_jobs_hang_holds_only_its_own_lane(
    rt: Runtime, tenant: TenantInfo, register: Register
) -> None:
    """One clinic's slow provider takes at most half the worker: another clinic's jobs claimed
    in the same batch run at once, not after the slow ones."""
    other = await make_tenant(rt, "beta")
    release = asyncio.Event()
    finished: dict[str, float] = {}
    started = asyncio.get_running_loop().time()

    async def hanging_or_quick(job: Job) -> None:
        if job.tenant.id == tenant.id:
            await release.wait()  # a provider that does not answer
        finished[str(job.tenant.slug)] = asyncio.get_running_loop().time() - started

    topic = register(hanging_or_quick)
    await enqueue(rt, tenant, topic, 6)
    await enqueue(rt, other, topic, 2)
    four = dataclasses.replace(rt.jobs, concurrency=4)  # two lanes at most for one clinic
    running = asyncio.create_task(jobs.run_due(four))
    for _ in range(200):
        if "beta" in finished:
            break
        await asyncio.sleep(0.01)
    assert "beta" in finished and "alpha" not in finished  # beta did not wait for alpha
    release.set()
    assert await running == 8


async def test_concurrent_claims_never_take_the_same_job(rt: Runtime, tenant: TenantInfo) -> None:
    ids = await enqueue(rt, tenant, "test.shared", 30)
    now = utcnow()
    batches = await asyncio.gather(*(claim(rt, now, limit=10) for _ in range(3)))
    taken = [j.id for batch in batches for j in batch]
    assert sorted(map(len, batches)) == [10, 10, 10]
    assert Counter(taken) == Counter(ids)


# Row locks and roles are PostgreSQL's: on SQLite there is nothing of the kind to test.
if "postgresql" in BACKENDS:

    @pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
    async def test_a_claim_skips_jobs_another_worker_has_locked(
        rt: Runtime, tenant: TenantInfo, backend: str
    ) -> None:
        ids = await enqueue(rt, tenant, "test.locked", 3)
        async with rt.database.writing() as holder:
            locked = await holder.scalar(
                select(OutboxJob)
                .where(OutboxJob.id == ids[0])
                .with_for_update()
                .execution_options(**ACROSS)
            )
            assert locked is not None
            # Another worker neither waits for the lock nor takes the locked job.
            claimed = await asyncio.wait_for(claim(rt, utcnow()), timeout=5)
            assert {j.id for j in claimed} == set(ids[1:])
            await holder.rollback()
        assert {j.id for j in await claim(rt, utcnow())} == {ids[0]}


async def test_three_workers_side_by_side_run_every_job_exactly_once(
    rt: Runtime, tenant: TenantInfo, register: Register
) -> None:
    ran: list[uuid.UUID] = []

    async def record(job: Job) -> None:
        await asyncio.sleep(0)  # let the other workers interleave
        ran.append(job.id)

    ids = await enqueue(rt, tenant, register(record), 30)

    async def worker() -> None:
        while await jobs.run_due(rt.jobs, limit=3):
            pass

    await asyncio.gather(worker(), worker(), worker())
    assert Counter(ran) == Counter(ids)
    assert {j.status for j in await every_job(rt)} == {JobStatus.DONE.value}
