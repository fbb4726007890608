"""Running outbox jobs: a handler per topic, each in its tenant's context, retried by policy.

Handlers are plain async functions registered with ``@handles("topic")``. They must be
idempotent (delivery is at least once) and must not hold a write transaction open while
calling a provider (the facade writes the ledger in transactions of its own).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import outbox
from praxis.core.db import utcnow
from praxis.core.errors import ServiceError
from praxis.core.logs import where_it_failed
from praxis.core.outbox import OutboxJob
from praxis.core.providers.common import PermanentFailure, TemporaryFailure
from praxis.core.providers.facade import Facade
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant

log = structlog.get_logger("praxis.jobs")

Handler = Callable[["Job"], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}


def handles(topic: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if topic in HANDLERS and HANDLERS[topic] is not handler:
            raise RuntimeError(f"two handlers for outbox topic {topic}")
        HANDLERS[topic] = handler
        return handler

    return register


@dataclass
class Job:
    """What a handler gets: the job, its tenant, and short transactions of its own."""

    rt: Runtime
    tenant: TenantInfo
    id: uuid.UUID
    topic: str
    payload: dict[str, Any]
    attempt: int
    now: datetime = field(default_factory=utcnow)
    created_at: datetime | None = None  # when the job was written: nothing it did is older
    finished: bool = False

    @property
    def key(self) -> str:
        """The idempotency key providers get: the same on every attempt of this job."""
        return str(self.id)

    @property
    def providers(self) -> Facade:
        return self.rt.providers(self.tenant)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self.rt.database.reading(self.tenant.id) as db:
            yield db

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        async with self.rt.database.writing(self.tenant.id) as db:
            yield db

    async def done(self, db: AsyncSession) -> None:
        """Mark the job done in ``db``'s transaction, so it commits with the job's effect."""
        await outbox.finish(db, self.id, now=utcnow(), attempt=self.attempt)
        self.finished = True


async def _tenant(rt: Runtime, tenant_id: uuid.UUID) -> TenantInfo | None:
    async with rt.database.reading() as db:
        row = await db.get(Tenant, tenant_id)
    return TenantInfo.from_row(row) if row is not None and row.status == "active" else None


async def run_due(rt: Runtime, *, limit: int = 20, now: datetime | None = None) -> int:
    """Claim up to ``limit`` due jobs and run them one after another. Returns how many it
    claimed (0: nothing was due).

    ``now`` (tests, a worker catching up) is the clock for the whole run: what is due, and
    when a failed job is due again."""
    async with rt.database.writing() as db:
        jobs = await outbox.claim(db, now=now or utcnow(), limit=limit, policy=rt.retry_policy)
    claimed_at = time.monotonic()
    lease = rt.retry_policy.lease.total_seconds()
    for done, job in enumerate(jobs):
        if time.monotonic() - claimed_at >= lease:
            # The rest of the batch may be another worker's by now: starting them here could
            # send twice. They stay claimed until their lease ends, then run again.
            log.warning("job_batch_outlived_its_lease", left=len(jobs) - done)
            break
        await run_one(rt, job, now=now)
    return len(jobs)


async def drain(rt: Runtime, *, rounds: int = 50, now: datetime | None = None) -> int:
    """Run until nothing is due (tests, `praxis worker --once`). Returns jobs run."""
    total = 0
    for _ in range(rounds):
        ran = await run_due(rt, now=now)
        total += ran
        if not ran:
            break
    return total


async def run_one(rt: Runtime, row: OutboxJob, *, now: datetime | None = None) -> None:
    """Run one claimed job and settle it; ``now`` defaults to the time it settles."""
    handler = HANDLERS.get(row.topic)
    tenant = await _tenant(rt, row.tenant_id)
    if handler is None or tenant is None:
        why = "no handler for this kind of job" if handler is None else "the clinic is not active"
        await _settle(rt, row, dead=why, now=now)
        return
    job = Job(
        rt,
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
            await _settle(rt, row, retry=exc.reason, retry_after=exc.retry_after, now=now)
        except (PermanentFailure, ServiceError) as exc:
            reason = exc.reason if isinstance(exc, PermanentFailure) else exc.message
            await _settle(rt, row, dead=reason, now=now)
        except Exception as exc:  # a bug: keep the job for staff rather than loop on it
            log.error("job_failed", **where_it_failed(exc))
            await _settle(rt, row, dead=f"unexpected error ({type(exc).__name__})", now=now)
        else:
            if not job.finished:
                await _settle(rt, row, now=now)


async def _settle(
    rt: Runtime,
    row: OutboxJob,
    *,
    retry: str | None = None,
    retry_after: float | None = None,
    dead: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record the outcome, unless the lease ran out and another worker has the job now."""
    now = now or utcnow()
    async with rt.database.writing() as db:
        if retry is not None:
            again = await outbox.retry_later(
                db, row, retry, now=now, policy=rt.retry_policy, retry_after=retry_after
            )
            log.info("job_retry" if again else "job_dead", attempts=row.attempts, reason=retry)
        elif dead is not None:
            await outbox.dead_letter(db, row.id, dead, now=now, attempt=row.attempts)
            log.warning("job_dead", attempts=row.attempts, reason=dead)
        else:
            await outbox.finish(db, row.id, now=now, attempt=row.attempts)
        await db.commit()
