"""Durable side effects: jobs written in the business transaction, run after it commits.

A job is a row of ``outbox_jobs`` holding ids only (never personal data): the handler reads
what it needs when it runs, so a consumer who opted out or was erased meanwhile is honoured.
Delivery is at least once: the job id is the idempotency key sent to the provider, a retry
after a lost answer is harmless. Temporary failures (5xx, 429, timeouts) are retried with
capped exponential backoff and jitter; anything else, or too many attempts, dead-letters the
job with a reason staff can read and retry. Workers claim jobs with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so several run side by side; a claim is a lease, so a crashed
worker's jobs run again once it expires.
"""

from __future__ import annotations

import enum
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, String, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, table_of, utcnow
from praxis.core.tenancy import PLATFORM_SCOPE, TenantTagged, insert_rows, run

RETRY_AFTER_MOST = 24 * 3600.0  # a provider's Retry-After longer than this is not believed


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class OutboxJob(TenantTagged, Base):
    """A platform table holding ids only, behind the tenant wall: a tenant's session sees and
    writes its own jobs only; workers claim across tenants (``platform_scope``), and each job
    runs inside its own tenant's context, so what it reads stays within that tenant."""

    __tablename__ = "outbox_jobs"
    __table_args__ = (
        Index(None, "status", "run_after"),
        Index(None, "tenant_id", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base: timedelta = timedelta(seconds=15)
    cap: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=5)  # a claimed job runs again if not finished by then

    def delay(self, attempts: int, *, at_least: float | None = None) -> timedelta:
        """Capped exponential backoff with full jitter (never below half the step). A wait
        the provider asked for (Retry-After) is honoured beyond the cap, up to a day."""
        step = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** (attempts - 1))
        seconds = step * random.uniform(0.5, 1.0)
        if at_least is not None:
            seconds = max(seconds, min(at_least, RETRY_AFTER_MOST))
        return timedelta(seconds=seconds)


_ADD_JOBS = insert_rows(table_of(OutboxJob))


def job_row(
    tenant_id: uuid.UUID,
    topic: str,
    payload: dict[str, Any],
    *,
    run_after: datetime | None = None,
) -> dict[str, Any]:
    """A pending job's columns, for ``enqueue`` or several at once with ``add_jobs``."""
    now = utcnow()
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "topic": topic,
        "payload": payload,
        "status": JobStatus.PENDING.value,
        "attempts": 0,
        "run_after": run_after or now,
        "locked_until": None,
        "last_error": "",
        "created_at": now,
        "finished_at": None,
    }


def enqueue(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    topic: str,
    payload: dict[str, Any],
    *,
    run_after: datetime | None = None,
) -> OutboxJob:
    """Add a job to the caller's transaction: it exists exactly when the change does."""
    job = OutboxJob(**job_row(tenant_id, topic, payload, run_after=run_after))
    db.add(job)
    return job


def stage(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """``job_row``s added to the session, written with its next flush."""
    db.add_all(OutboxJob(**row) for row in rows)


async def add_jobs(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write ``job_row``s in the caller's transaction now, in one statement: cheaper than
    ``enqueue`` on a hot path (no unit-of-work bookkeeping per job)."""
    if rows:
        await run(db, _ADD_JOBS, rows)


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxJob.status == JobStatus.PENDING.value, OutboxJob.run_after <= now),
        and_(OutboxJob.status == JobStatus.RUNNING.value, OutboxJob.locked_until < now),
    )


async def claim(
    db: AsyncSession, *, now: datetime, limit: int, policy: RetryPolicy
) -> list[OutboxJob]:
    """Take up to ``limit`` due jobs of any tenant for this worker and commit the claim."""
    query = (
        select(OutboxJob)
        .where(_due(now))
        .order_by(OutboxJob.run_after)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(**{PLATFORM_SCOPE: True})  # a worker serves every clinic
    )
    jobs = list((await db.scalars(query)).all())
    for job in jobs:
        job.status = JobStatus.RUNNING.value
        job.attempts += 1
        job.locked_until = now + policy.lease
    await db.commit()
    return jobs


def _held(job_id: uuid.UUID, attempt: int | None) -> Any:
    """The job, if it is still the claim ``attempt`` made: a worker whose lease expired (and
    whose job another worker claimed since) must not undo what that worker did."""
    if attempt is None:
        return OutboxJob.id == job_id
    return and_(
        OutboxJob.id == job_id,
        OutboxJob.status == JobStatus.RUNNING.value,
        OutboxJob.attempts == attempt,
    )


async def finish(
    db: AsyncSession, job_id: uuid.UUID, *, now: datetime, attempt: int | None = None
) -> None:
    """Mark done, in whatever transaction the caller commits (with the job's effect)."""
    await db.execute(
        update(OutboxJob)
        .where(_held(job_id, attempt))
        .values(status=JobStatus.DONE.value, finished_at=now, locked_until=None, last_error="")
    )


async def retry_later(
    db: AsyncSession,
    job: OutboxJob,
    reason: str,
    *,
    now: datetime,
    policy: RetryPolicy,
    retry_after: float | None = None,
) -> bool:
    """Schedule another attempt of the claimed ``job``, or dead-letter it after the last one.
    True if it will retry."""
    if job.attempts >= policy.max_attempts:
        reason = f"gave up after {job.attempts} attempts: {reason}"
        await dead_letter(db, job.id, reason, now=now, attempt=job.attempts)
        return False
    await db.execute(
        update(OutboxJob)
        .where(_held(job.id, job.attempts))
        .values(
            status=JobStatus.PENDING.value,
            run_after=now + policy.delay(job.attempts, at_least=retry_after),
            locked_until=None,
            last_error=reason[:300],
        )
    )
    return True


async def put_back(db: AsyncSession, job: OutboxJob, *, run_after: datetime) -> None:
    """Return the claimed ``job`` unrun, as if never claimed: its clinic cannot be served now
    (suspended after the claim), which is no attempt of the job's own."""
    await db.execute(
        update(OutboxJob)
        .where(_held(job.id, job.attempts))
        .values(
            status=JobStatus.PENDING.value,
            attempts=job.attempts - 1,
            run_after=run_after,
            locked_until=None,
        )
    )


async def dead_letter(
    db: AsyncSession, job_id: uuid.UUID, reason: str, *, now: datetime, attempt: int | None = None
) -> None:
    await db.execute(
        update(OutboxJob)
        .where(_held(job_id, attempt))
        .values(
            status=JobStatus.DEAD.value, finished_at=now, locked_until=None, last_error=reason[:300]
        )
    )


async def dead_letters(db: AsyncSession, *, limit: int = 100) -> list[OutboxJob]:
    """The session's tenant's jobs that gave up, newest first."""
    query = (
        select(OutboxJob)
        .where(OutboxJob.status == JobStatus.DEAD.value)
        .order_by(OutboxJob.created_at.desc())
        .limit(limit)
    )
    return list((await db.scalars(query)).all())


async def is_known(db: AsyncSession, job_id: uuid.UUID) -> bool:
    """Is this one of the session's tenant's jobs (another clinic's is unknown here)?"""
    return await db.scalar(select(OutboxJob.id).where(OutboxJob.id == job_id)) is not None


async def retry_dead(db: AsyncSession, job_id: uuid.UUID) -> bool:
    """Staff asked to try one of their clinic's dead jobs again: back to pending with a fresh
    set of attempts.

    The count restarts at one, not zero: the next run is a retry, so a provider without
    idempotency keys looks for what an earlier attempt may have done (a text sent whose
    answer was lost) before it acts again.
    """
    result = await db.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job_id, OutboxJob.status == JobStatus.DEAD.value)
        .values(status=JobStatus.PENDING.value, attempts=1, run_after=utcnow(), finished_at=None)
    )
    return bool(getattr(result, "rowcount", 0))
