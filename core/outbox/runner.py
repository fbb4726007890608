"""Running claimed jobs: each by its topic's handler, in its tenant's context, settled by
the retry policy."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta

import structlog

from praxis.core.db import utcnow
from praxis.core.errors import ServiceError
from praxis.core.logs import where_it_failed
from praxis.core.outbox import queue
from praxis.core.outbox.handlers import HANDLERS, Job, JobServices
from praxis.core.outbox.queue import OutboxJob
from praxis.core.providers.common import PermanentFailure, TemporaryFailure
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant

log = structlog.get_logger("praxis.jobs")
# A job claimed just before its clinic was suspended waits like the clinic's other jobs
# (praxis.core.clinics.suspension holds them by this much; resuming makes them due at once).
SUSPENDED_WAIT = timedelta(minutes=5)


async def _tenant(services: JobServices, tenant_id: uuid.UUID) -> TenantInfo | str:
    """The job's clinic, or its status when it is not active."""
    async with services.database.reading() as db:
        row = await db.get(Tenant, tenant_id)
    if row is None:
        return "gone"
    return TenantInfo.from_row(row) if row.status == "active" else row.status


class _Lanes:
    """At most ``width`` jobs at once, and at most half of them for any one clinic: a slow
    provider holds its own clinic's lane, never the whole worker."""

    def __init__(self, width: int) -> None:
        self.all = asyncio.Semaphore(width)
        self.per_tenant = max(1, width // 2)
        self.tenants: dict[uuid.UUID, asyncio.Semaphore] = {}

    def of(self, tenant_id: uuid.UUID) -> asyncio.Semaphore:
        return self.tenants.setdefault(tenant_id, asyncio.Semaphore(self.per_tenant))


async def run_due(services: JobServices, *, limit: int = 20, now: datetime | None = None) -> int:
    """Claim up to ``limit`` due jobs and run them, several at once (``WORKER_CONCURRENCY``).
    Returns how many it claimed (0: nothing was due).

    ``now`` (tests, a worker catching up) is the clock for the whole run: what is due, and
    when a failed job is due again."""
    async with services.database.writing() as db:
        jobs = await queue.claim(db, now=now or utcnow(), limit=limit, policy=services.retry_policy)
    claimed_at = time.monotonic()
    lease = services.retry_policy.lease.total_seconds()
    lanes = _Lanes(services.concurrency)
    left: list[OutboxJob] = []

    async def in_lane(job: OutboxJob) -> None:
        async with lanes.of(job.tenant_id), lanes.all:
            if time.monotonic() - claimed_at >= lease:
                # The job may be another worker's by now: starting it here could send twice.
                # It stays claimed until its lease ends, then runs again.
                left.append(job)
                return
            await run_one(services, job, now=now)

    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(in_lane(job))
    if left:
        log.warning("job_batch_outlived_its_lease", left=len(left))
    return len(jobs)


async def drain(services: JobServices, *, rounds: int = 50, now: datetime | None = None) -> int:
    """Run until nothing is due (tests, `praxis worker --once`). Returns jobs run."""
    total = 0
    for _ in range(rounds):
        ran = await run_due(services, now=now)
        total += ran
        if not ran:
            break
    return total


async def run_one(services: JobServices, row: OutboxJob, *, now: datetime | None = None) -> None:
    """Run one claimed job and settle it; ``now`` defaults to the time it settles."""
    handler = HANDLERS.get(row.topic)
    tenant = await _tenant(services, row.tenant_id)
    if tenant == "suspended":  # suspended since the claim: held, never failed
        async with services.database.writing(row.tenant_id) as db:
            await queue.put_back(db, row, run_after=(now or utcnow()) + SUSPENDED_WAIT)
            await db.commit()
        log.info("job_held", reason="the clinic is suspended")
        return
    if handler is None or not isinstance(tenant, TenantInfo):
        why = "no handler for this kind of job" if handler is None else "the clinic is not active"
        await _settle(services, row, dead=why, now=now)
        return
    job = Job(
        services,
        tenant,
        row.id,
        row.topic,
        dict(row.payload),
        row.attempts,
        now=now or utcnow(),
        created_at=row.created_at,
    )
    bound = structlog.contextvars.bound_contextvars(
        job_id=str(row.id), topic=row.topic, tenant_id=str(row.tenant_id)
    )
    with bound:
        try:
            await handler(job)
        except TemporaryFailure as exc:
            await _settle(services, row, retry=exc.reason, retry_after=exc.retry_after, now=now)
        except (PermanentFailure, ServiceError) as exc:
            reason = exc.reason if isinstance(exc, PermanentFailure) else exc.message
            await _settle(services, row, dead=reason, now=now)
        except Exception as exc:  # a bug: keep the job for staff rather than loop on it
            if services.settings.is_development:  # the traceback, where no one else reads it
                log.exception("job_failed", exc_info=exc, **where_it_failed(exc))
            else:
                log.error("job_failed", **where_it_failed(exc))
            why = f"unexpected error in {row.topic} ({type(exc).__name__})"
            await _settle(services, row, dead=why, now=now)
        else:
            if not job.finished:
                await _settle(services, row, now=now)


async def _settle(
    services: JobServices,
    row: OutboxJob,
    *,
    retry: str | None = None,
    retry_after: float | None = None,
    dead: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record the outcome, unless the lease ran out and another worker has the job now."""
    now = now or utcnow()
    async with services.database.writing(row.tenant_id) as db:  # the job's own tenant
        if retry is not None:
            again = await queue.retry_later(
                db, row, retry, now=now, policy=services.retry_policy, retry_after=retry_after
            )
            log.info("job_retry" if again else "job_dead", attempts=row.attempts, reason=retry)
        elif dead is not None:
            await queue.dead_letter(db, row.id, dead, now=now, attempt=row.attempts)
            log.warning("job_dead", attempts=row.attempts, reason=dead)
        else:
            await queue.finish(db, row.id, now=now, attempt=row.attempts)
        await db.commit()
