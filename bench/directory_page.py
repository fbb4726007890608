"""directory_page: the platform's public directory, anonymous, against the portal's home.

ours: ``GET /`` on the platform's bare domain (``localhost``) as a visitor opens it: 50
listed clinics (and the demo clinic, listed too) with 4 approved Professionals each, every
one with hours all day, every day and a consultation, so each shows a next free time
(clinics, Professionals, photos, consultations, each diary and its holds, the slot
computation, the template of ~200 Professionals). The app reads all of it at most once every
``DIRECTORY_CACHE_SECONDS`` (30 s), filters each search in memory and keeps the list's HTML
per reading and result, so the rounds include a reading now and then, as visitors meet it.

reference: the demo clinic's home page (``/``, what portal_page measures) on the same server
in the same run. ratio = directory pages per CPU-second / home pages per CPU-second.

uncached (a note on stderr, no line): the same page from a second server with
``DIRECTORY_CACHE_SECONDS=0`` (read on every visit, as before the snapshot), against the same
home page, in 3 rounds of 5 s: what the snapshot saves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from typing import Any

from bench.common import (
    DEMO_HOST,
    PLATFORM_DOMAIN,
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
    tenant_row,
    workspace,
    wrk,
)

NAME = "directory_page"
UNCACHED = f"{NAME}_uncached"
TARGET = 0.4
LINES = ((NAME, TARGET, True),)
CLINICS = 50
PROFESSIONALS = 4  # per clinic
TOWNS = ("Leeds", "York", "Bristol", "Norwich", "Bath")
FIELDS = ("General practice", "Physiotherapy", "Psychotherapy", "Nutrition")
UNCACHED_ROUNDS = 3
UNCACHED_CONNECTIONS = 2  # a page of ~0.5 s: 32 waiting visitors would pass wrk's timeout
UNCACHED_SECONDS = 5.0  # long enough for some pages at that pace


def run() -> bool:
    with workspace_with_clinics() as (space, database):
        specs = [("ours", database, "ours"), ("ours", database, "uncached")]
        uncached_env = {"uncached": {"DIRECTORY_CACHE_SECONDS": "0"}}
        with servers(space, specs, env=uncached_env) as (ours, uncached):
            for server in (ours, uncached):
                _check(server)
            wrk(ours.url, host=PLATFORM_DOMAIN, seconds=2)  # warm-up
            wrk(ours.url, host=DEMO_HOST, seconds=2)
            ratio = compare(
                NAME,
                lambda: _measure(ours, PLATFORM_DOMAIN),
                "home",
                lambda: _measure(ours, DEMO_HOST),
            )
            slow = compare(
                UNCACHED,
                lambda: _measure(uncached, PLATFORM_DOMAIN, slow=True),
                "home",
                lambda: _measure(uncached, DEMO_HOST),
                rounds=UNCACHED_ROUNDS,
            )
    note(f"{UNCACHED}: ratio={slow:.5f} (no target: what the snapshot saves, {ratio / slow:.0f}x)")
    return report(NAME, ratio, TARGET)


@contextlib.contextmanager
def workspace_with_clinics() -> Iterator[tuple[Workspace, Location]]:
    with workspace() as space:
        database, _ = prepare_database(space, NAME, tenants=1)
        _seed(space, database)
        yield space, database


def _measure(server: Server, host: str, *, slow: bool = False) -> Measurement:
    before = cpu_seconds(server.pid)
    if slow:
        result = wrk(
            server.url,
            seconds=UNCACHED_SECONDS,
            host=host,
            connections=UNCACHED_CONNECTIONS,
            timeout=30,
        )
    else:
        result = wrk(server.url, seconds=SECONDS, host=host)
    spent = cpu_seconds(server.pid) - before
    if result.requests <= 0 or spent <= 0:
        raise BenchError(f"{server.label} at {host}: nothing measured")
    return Measurement(result.requests, result.rps, spent, result.seconds)


def _check(server: Server) -> None:
    """Every listed clinic is on the page, and each of its Professionals has a free time."""
    status, body = get(server.port, PLATFORM_DOMAIN, "/")
    clinics, free = body.count(b'class="card"'), body.count(b"Next free:")
    note(f"{NAME} ({server.label}): {clinics} clinics, {free} next free times, {len(body)} bytes")
    if status != 200 or clinics < CLINICS or free < CLINICS * PROFESSIONALS:
        raise BenchError(f"the directory answered {status} with {clinics} clinics, {free} times")


def _seed(space: Workspace, database: Location) -> None:
    """50 listed clinics in one INSERT; their Professionals through the services onboarding
    uses (bench.clinic.add_professional: registered, approved, hours, consultations)."""
    settings = settings_for(space, database)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        asyncio.run(_seed_clinics(settings))


async def _seed_clinics(settings: Any) -> None:
    from sqlalchemy import insert

    from bench.clinic import add_professional
    from praxis.core.db import Base, utcnow
    from praxis.core.runtime import build_runtime
    from praxis.tenants.models import Tenant

    now = utcnow()
    rows = [
        {
            **tenant_row(f"listed-{n:03d}"),
            "listed": True,
            "town": TOWNS[n % len(TOWNS)],
            "created_at": now,
            "updated_at": now,
        }
        for n in range(CLINICS)
    ]
    rt = build_runtime(settings)
    try:
        async with rt.database.writing() as db:
            await db.execute(insert(Base.metadata.tables[Tenant.__tablename__]), rows)
            await db.commit()
        for row in rows:
            for n in range(PROFESSIONALS):
                field = FIELDS[n % len(FIELDS)]
                await add_professional(rt, row["id"], f"pro{n}.{row['slug']}", field=field)
    finally:
        await rt.close()
