"""Suspending a clinic: its portal says it is unavailable for now, sign-in closes, nothing is
deleted, and the worker sends nothing for it (its due jobs are held, not failed); resuming
restores the portal and lets the held jobs run at once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import update

from praxis.core.db import utcnow
from praxis.core.outbox.queue import JobStatus, OutboxJob
from praxis.core.tenancy import Database
from praxis.tenants import services as tenants

HOLD = timedelta(minutes=5)  # held jobs are pushed on by this much at each worker pass


async def suspend(database: Database, tenant_id: uuid.UUID) -> bool:
    async with database.writing() as db:
        done = await tenants.set_suspended(db, tenant_id, suspended=True)
    if done:
        await _move(database, tenant_id, lambda now: now + HOLD, now=utcnow())
    return done


async def resume(database: Database, tenant_id: uuid.UUID) -> bool:
    async with database.writing() as db:
        done = await tenants.set_suspended(db, tenant_id, suspended=False)
    if done:
        await _move(database, tenant_id, lambda now: now, now=utcnow())
    return done


async def hold_suspended(database: Database, *, now: datetime | None = None) -> int:
    """Before the worker claims jobs: every suspended clinic's jobs due soon wait longer."""
    now = now or utcnow()
    async with database.reading() as db:
        paused = await tenants.suspended_ids(db)
    held = 0
    for tenant_id in paused:
        held += await _move(database, tenant_id, lambda at: at + HOLD, now=now)
    return held


async def _move(database: Database, tenant_id: uuid.UUID, when: object, *, now: datetime) -> int:
    """Pending jobs of the clinic due before now + HOLD are given a new time ``when(now)``."""
    async with database.writing(tenant_id) as db:
        result = await db.execute(
            update(OutboxJob)
            .where(
                OutboxJob.tenant_id == tenant_id,
                OutboxJob.status == JobStatus.PENDING.value,
                OutboxJob.run_after <= now + HOLD,
            )
            .values(run_after=when(now))  # type: ignore[operator]
        )
        await db.commit()
    return int(getattr(result, "rowcount", 0) or 0)
