"""dsar_export: building one person's "Download my data" archive with 10,000 records vs 1,000.

What is timed is what the worker runs for an export job, ``praxis.core.privacy.export.build``:
one pass over every section a page of rows at a time (account, appointments, payments,
intake answers, messages, the ledger), the ZIP written through temporary files, then stored
in sealed chunks. One SQLite database, migrated with ``core.migrate.upgrade`` with the demo
clinic loaded, holds two consumers of that clinic: one with BIG records (appointments and
ledger events, half each), one with SMALL. Each is built ROUNDS times, alternating; the line
``dsar_export`` is the median time of the big / the small (linear is 10, the target 12), and
``dsar_export_memory`` the peak Python heap during a build (``tracemalloc``), big / small:
a build that held the whole history in memory would show about 10 here, not 1.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import tracemalloc
import uuid
from datetime import timedelta
from typing import Any

from bench.common import (
    Location,
    Workspace,
    note,
    prepare_database,
    report,
    settings_for,
    workspace,
)

NAME = "dsar_export"
MEMORY = f"{NAME}_memory"
TARGET, MEMORY_TARGET = 12.0, 1.5
LINES = ((NAME, TARGET, False), (MEMORY, MEMORY_TARGET, False))
BIG, SMALL = 10_000, 1_000
ROUNDS = int(os.environ.get("BENCH_DSAR_ROUNDS", "5"))


def run() -> bool:
    with workspace() as space:
        database, _ = prepare_database(space, "dsar", tenants=1)  # migrates: its own loop
        seconds, peaks = asyncio.run(_measure(space, database))
    timed = report(NAME, seconds, TARGET, higher_is_better=False)
    return report(MEMORY, peaks, MEMORY_TARGET, higher_is_better=False) and timed


async def _measure(space: Workspace, database: Location) -> tuple[float, float]:
    from praxis.core.runtime import build_runtime

    runtime = build_runtime(settings_for(space, database))
    try:
        tenant, people = await _fill(runtime)
        times: dict[str, list[float]] = {label: [] for label in people}
        peaks: dict[str, list[int]] = {label: [] for label in people}
        for n in range(ROUNDS):
            order = list(people.items())
            for label, user_id in order if n % 2 == 0 else reversed(order):
                seconds, peak = await _build(runtime, tenant, user_id)
                times[label].append(seconds)
                peaks[label].append(peak)
    finally:
        await runtime.close()
    for label in people:
        note(
            f"{label}: median {statistics.median(times[label]) * 1e3:.0f} ms, "
            f"peak heap {statistics.median(peaks[label]) / 1024:.0f} KiB over {ROUNDS} builds"
        )
    ratio = statistics.median(times["big"]) / statistics.median(times["small"])
    memory = statistics.median(peaks["big"]) / statistics.median(peaks["small"])
    return ratio, memory


async def _fill(runtime: Any) -> tuple[Any, dict[str, uuid.UUID]]:
    """Two consumers of the demo clinic, with BIG and SMALL records."""
    from sqlalchemy import select

    from praxis.core import ledger
    from praxis.core.accounts import registration
    from praxis.core.accounts.forms import ConsumerRegistration
    from praxis.core.accounts.models import Professional
    from praxis.core.booking.models import Appointment, ConsultationType
    from praxis.core.db import utcnow
    from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
    from praxis.tenants.directory import TenantInfo
    from praxis.tenants.models import Tenant

    async with runtime.database.reading() as db:
        row = await db.scalar(select(Tenant).where(Tenant.slug == "demo"))
        tenant = TenantInfo.from_row(row)
    people = {}
    started = time.monotonic()
    async with runtime.database.writing(tenant.id) as db:
        pro = await db.scalar(select(Professional).limit(1))
        kind = await db.scalar(
            select(ConsultationType).where(ConsultationType.professional_id == pro.id).limit(1)
        )
        for label, total in (("big", BIG), ("small", SMALL)):
            form = ConsumerRegistration.model_validate(
                {
                    "full_name": f"Bench {label.title()}",
                    "username": f"bench.{label}",
                    "email": f"bench.{label}@example.org",
                    "phone": "07400 123456",
                    "address_line1": "1 High Street",
                    "town": "London",
                    "postcode": "N1 1AA",
                    "password": "bench-password-long",
                }
            )
            user = await registration.register_consumer(db, form, runtime.passwords)
            people[label] = user.id
            start = utcnow() - timedelta(days=3650)
            for i in range(total // 2):
                at = start + timedelta(hours=i)
                db.add(
                    Appointment(
                        professional_id=pro.id,
                        consumer_id=user.id,
                        consultation_type_id=kind.id,
                        starts_at=at,
                        ends_at=at + timedelta(minutes=30),
                        status="booked",
                        mode="video",
                        price_minor=4000,
                        currency="GBP",
                    )
                )
                await ledger.append(
                    db,
                    Entry(
                        kind=EventKind.DISCLOSURE,
                        status=Status.RECORDED,
                        recipient="Twilio Ireland Limited",
                        recipient_kind=RecipientKind.PROCESSOR,
                        operation="send_sms",
                        categories=["phone", "appointment"],
                        purpose="appointment messages",
                        legal_basis="contract",
                        subject_id=user.id,
                    ),
                )
                if i % 1000 == 999:
                    await db.flush()
                    db.expunge_all()
        await db.commit()
    note(f"filled {BIG:,} and {SMALL:,} records in {time.monotonic() - started:.1f} s")
    return tenant, people


async def _build(runtime: Any, tenant: Any, user_id: uuid.UUID) -> tuple[float, int]:
    """One export built as the worker builds it: its time and the peak Python heap."""
    from praxis.core.accounts.models import User
    from praxis.core.privacy import export

    async with runtime.database.writing(tenant.id) as db:
        user = await db.get(User, (tenant.id, user_id))
        asked = await export.request(db, tenant, user)
        await db.commit()
    tracemalloc.start()
    started = time.perf_counter()
    built = await export.build(runtime.database, runtime.data_keys, tenant, asked.id)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert built, "the export was not built"
    return seconds, peak
