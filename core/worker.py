"""Background work: the outbox, and periodic idempotent scans of database state.

The scans purge expired sessions, queue reminders for appointments entering their reminder
window, release unpaid holds past their time, and once a day run each clinic's retention and
sign its ledger's head;
running one twice changes nothing more.
``praxis worker`` runs this alone (several may run side by side on PostgreSQL);
``praxis serve`` on the embedded SQLite default runs one in process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime

import structlog
from sqlalchemy import select

from praxis.core import outbox
from praxis.core.clinics.suspension import hold_suspended
from praxis.core.db import utcnow
from praxis.core.ledger import checkpoints
from praxis.core.logs import where_it_failed
from praxis.core.notifications import services as notifications
from praxis.core.payments import services as payments
from praxis.core.privacy import exit as clinic_exit
from praxis.core.privacy import export, requests, retention
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant

log = structlog.get_logger("praxis.worker")


async def _tenants(runtime: Runtime) -> list[TenantInfo]:
    async with runtime.database.reading() as db:
        rows = await db.scalars(select(Tenant).where(Tenant.status == "active"))
        return [TenantInfo.from_row(row) for row in rows]


async def purge_expired_sessions(runtime: Runtime, tenants: list[TenantInfo]) -> None:
    """One pass over every tenant (row-level security needs each tenant set in turn)."""
    for tenant in tenants:
        async with runtime.database.writing(tenant.id) as db:
            await runtime.user_sessions.purge_expired(db)
            await db.commit()
    async with runtime.database.writing() as db:
        await runtime.operator_sessions.purge_expired(db)
        await db.commit()


async def scan_appointments(
    runtime: Runtime, tenants: list[TenantInfo], *, now: datetime | None = None
) -> tuple[int, int]:
    """Reminders due and unpaid holds expired, tenant by tenant."""
    reminders = released = 0
    now = now or utcnow()
    for tenant in tenants:
        async with runtime.database.writing(tenant.id) as db:
            reminders += await notifications.queue_reminders(db, tenant, now=now)
            released += await payments.release_unpaid(db, tenant, now=now)
            await db.commit()
    return reminders, released


async def remind_of_requests(
    runtime: Runtime, tenants: list[TenantInfo], *, now: datetime | None = None
) -> int:
    """Written rights requests due within a week: their clinic's admins are emailed, once."""
    reminded = 0
    today = (now or utcnow()).date()
    for tenant in tenants:
        async with runtime.database.writing(tenant.id) as db:
            reminded += await requests.queue_reminders(db, tenant, today)
            await db.commit()
    return reminded


async def purge_expired_exports(
    runtime: Runtime, tenants: list[TenantInfo], *, now: datetime | None = None
) -> int:
    """Data downloads past their link's life are deleted, clinic by clinic (P31)."""
    purged = 0
    for tenant in tenants:
        async with runtime.database.writing(tenant.id) as db:
            purged += await export.purge_expired(db, now=now)
            await db.commit()
    return purged


async def run_retention(
    runtime: Runtime, tenants: list[TenantInfo], *, now: datetime | None = None
) -> int:
    """Each clinic's retention, once a day (the ledger says when it last ran); records removed."""
    removed = 0
    now = now or utcnow()
    for tenant in tenants:
        async with runtime.database.writing(tenant.id) as db:
            if await retention.due(db, now):
                removed += (await retention.run(db, tenant, now=now)).removed
    return removed


async def sign_checkpoints(
    runtime: Runtime, tenants: list[TenantInfo], *, now: datetime | None = None
) -> int:
    """Each clinic's ledger head signed once a day (P20): checkpoints signed."""
    made = 0
    for tenant in tenants:
        async with runtime.database.writing(tenant.id) as db:
            if await checkpoints.sign_head(db, runtime.ledger_key, now=now):
                made += 1
                await db.commit()
    return made


async def purge_departed(runtime: Runtime, *, now: datetime | None = None) -> int:
    """Clinics that left ``retention.tenant_exit_months`` ago: every row and the data key
    (P29); rows removed."""
    reports = await clinic_exit.purge_due(
        runtime.database,
        runtime.data_keys,
        now=now or utcnow(),
        var_dir=runtime.settings.var_dir,
    )
    return sum(sum(report.counts.values()) for report in reports)


async def run_scans(runtime: Runtime) -> None:
    tenants = await _tenants(runtime)
    await purge_expired_sessions(runtime, tenants)
    await purge_expired_exports(runtime, tenants)
    reminders, released = await scan_appointments(runtime, tenants)
    reminders += await remind_of_requests(runtime, tenants)
    removed = await run_retention(runtime, tenants)
    removed += await purge_departed(runtime)
    signed = await sign_checkpoints(runtime, tenants)
    log.info(
        "scans",
        tenants=len(tenants),
        reminders=reminders,
        released=released,
        retention=removed,
        checkpoints=signed,
    )


async def run_once(runtime: Runtime) -> None:
    """One scan, then the outbox until nothing is due (cron, tests)."""
    await run_scans(runtime)
    await hold_suspended(runtime.database)  # a suspended clinic's jobs wait (sent on resume)
    ran = await outbox.drain(runtime.jobs)
    log.info("outbox", jobs=ran)


async def run_forever(runtime: Runtime, stop: asyncio.Event) -> None:
    poll = runtime.settings.outbox_poll_seconds
    interval = runtime.settings.worker_interval_seconds
    next_scan = 0.0
    while not stop.is_set():
        ran = 0
        try:
            if time.monotonic() >= next_scan:
                await run_scans(runtime)
                next_scan = time.monotonic() + interval
            await hold_suspended(runtime.database)  # nothing is sent for a suspended clinic
            ran = await outbox.run_due(runtime.jobs)
        except Exception as exc:  # a failed pass is logged and tried again next time
            log.error("worker_pass_failed", **where_it_failed(exc))
        if ran:
            continue  # more may be due: do not sleep between full batches
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll)
