"""free_times: a week of a Professional's free times, anonymous, against the portal's home.

ours: ``GET /professionals/{id}/book?type=...`` on ``bench.localhost`` as a visitor who is not
signed in opens it: the week from today of a Professional bookable all day, every day, in
15-minute consultations, whose diary holds 100 bookings in that week, with the day picker
and "next available" on the page (tenant resolution, the Professional and the consultation,
the diary and the week's holds, the slot computation, the template of ~600 times).

reference: the demo clinic's home page (``/``, what portal_page measures) on the same server
in the same run. ratio = free-times pages per CPU-second / home pages per CPU-second: what
listing free times costs beyond a page of the portal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.clinic import HOST, SLOT_MINUTES, BenchClinic, add_clinic, today
from bench.common import (
    DEMO_HOST,
    SECONDS,
    BenchError,
    Location,
    Measurement,
    Server,
    Workspace,
    compare,
    cpu_seconds,
    get,
    note,
    prepare_database,
    report,
    servers,
    settings_for,
    workspace,
    wrk,
)

NAME = "free_times"
TARGET = 0.1
LINES = ((NAME, TARGET, True),)
BOOKINGS = 100


def run() -> bool:
    with workspace() as space:
        database, _ = prepare_database(space, "free_times", tenants=1)
        clinic = add_clinic(space, database, professionals=1, consumers=1)
        pro = clinic.professionals[0]
        _fill_diary(space, database, clinic)
        page = f"/professionals/{pro}/book?type={clinic.kinds[pro]}"
        with servers(space, [("ours", database, "ours")]) as (ours,):
            _check(ours.port, page)
            wrk(ours.url + page.lstrip("/"), host=HOST, seconds=2)  # warm-up
            wrk(ours.url, host=DEMO_HOST, seconds=2)
            ratio = compare(
                "free_times",
                lambda: _measure(ours, page, HOST),
                "home",
                lambda: _measure(ours, "/", DEMO_HOST),
            )
    return report(NAME, ratio, TARGET)


def _measure(server: Server, path: str, host: str) -> Measurement:
    before = cpu_seconds(server.pid)
    result = wrk(server.url + path.lstrip("/"), seconds=SECONDS, host=host)
    spent = cpu_seconds(server.pid) - before
    if result.requests <= 0 or spent <= 0:
        raise BenchError(f"{path}: nothing measured")
    return Measurement(result.requests, result.rps, spent, result.seconds)


def _check(port: int, page: str) -> None:
    """The page lists the week's free times and leaves the booked ones out."""
    status, body = get(port, HOST, page)
    if status != 200 or b"Next available:" not in body:
        raise BenchError(f"the free-times page answered {status} without its times")
    shown = body.count(b'class="slot"')
    note(f"{NAME}: {shown} free times shown, {BOOKINGS} booked")
    if shown < 7 * 24 * 60 // SLOT_MINUTES // 2:
        raise BenchError(f"only {shown} free times shown")


def _fill_diary(space: Workspace, database: Location, clinic: BenchClinic) -> None:
    """Book 100 of the week's times for the Professional, through the booking service."""
    settings = settings_for(space, database)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        asyncio.run(_book(settings, clinic))


async def _book(settings: Any, clinic: BenchClinic) -> None:
    from praxis.core.accounts.models import User
    from praxis.core.booking import services as booking
    from praxis.core.booking.forms import BookingRequest
    from praxis.core.runtime import build_runtime
    from praxis.tenants.directory import TenantInfo
    from praxis.tenants.models import Tenant

    rt = build_runtime(settings)
    try:
        pro = clinic.professionals[0]
        now = datetime.now(UTC)
        async with rt.database.reading() as db:
            row = await db.get(Tenant, clinic.tenant_id)
            assert row is not None
            tenant = TenantInfo.from_row(row)
        first = today(now)
        starts = await _week(rt, tenant, pro, clinic.kinds[pro], first, now)
        wanted = starts[:: max(1, len(starts) // BOOKINGS)][:BOOKINGS]
        consumer_id = next(iter(clinic.consumer_ids.values()))
        for start in wanted:
            async with rt.database.writing(clinic.tenant_id) as db:
                consumer = await db.get(User, (clinic.tenant_id, consumer_id))
                assert consumer is not None
                request = BookingRequest(
                    professional_id=pro, consultation_type_id=clinic.kinds[pro], starts_at=start
                )
                await booking.book(db, tenant, consumer, request, now=now)
        if len(wanted) != BOOKINGS:
            raise BenchError(f"only {len(wanted)} times to book")
    finally:
        await rt.close()


async def _week(
    rt: Any, tenant: Any, pro: uuid.UUID, kind: uuid.UUID, first: Any, now: datetime
) -> list[datetime]:
    from praxis.core.booking import services as booking

    async with rt.database.reading(tenant.id) as db:
        found: list[datetime] = await booking.slots(
            db,
            tenant,
            professional_id=pro,
            type_id=kind,
            first_day=first,
            last_day=first + timedelta(days=6),
            now=now,
        )
    return found
