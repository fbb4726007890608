"""Background work derived from database state by periodic, idempotent scans.

Today: purging sessions past their idle or absolute timeout. The outbox (issue 3)
runs here too. ``praxis worker`` runs it alone; ``praxis serve`` on the embedded
SQLite default runs one in process.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy import select

from core.runtime import Runtime
from tenants.models import Tenant

log = structlog.get_logger("praxis.worker")


async def purge_expired_sessions(runtime: Runtime) -> int:
    """One pass over every tenant (row-level security needs each tenant set in turn)."""
    async with runtime.database.reading() as db:
        tenant_ids = list(await db.scalars(select(Tenant.id)))
    for tenant_id in tenant_ids:
        async with runtime.database.writing(tenant_id) as db:
            await runtime.user_sessions.purge_expired(db)
            await db.commit()
    async with runtime.database.writing() as db:
        await runtime.operator_sessions.purge_expired(db)
        await db.commit()
    return len(tenant_ids)


async def run_once(runtime: Runtime) -> None:
    tenants = await purge_expired_sessions(runtime)
    log.info("housekeeping", tenants=tenants)


async def run_forever(runtime: Runtime, stop: asyncio.Event) -> None:
    interval = runtime.settings.worker_interval_seconds
    while not stop.is_set():
        try:
            await run_once(runtime)
        except Exception:  # a failed pass is logged and retried next interval
            log.exception("housekeeping_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
