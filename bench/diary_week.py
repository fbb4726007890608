"""diary_week: a Professional's week view with 200 consultations in the week, against the same
view of an empty week, in the same run.

ratio = throughput of ``GET /workspace/diary?view=week&date=<Monday>`` for a Professional with
200 consultations that week (booked, cancelled and awaiting payment, each with its patient and
consultation type) / the same page for the same kind of Professional with none, both `ours`,
each on a database of its own set up the same way. Near 1.0 means the week costs the same
however full it is; what is left is the cost of the rows themselves (reading and rendering
200 entries), never a query per consultation: the page is two diary statements whatever
the week holds.

``diary_week_postgresql``: the same on two fresh PostgreSQL databases of the bench's own
(bench.postgres; skipped if the server does not answer), ours signing in as the app role.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import postgres
from bench.clinic import HOST, PASSWORD, TIMEZONE, BenchClinic, Browser, add_clinic, today
from bench.common import (
    SECONDS,
    BenchError,
    Location,
    Workspace,
    compare,
    guarded,
    measure,
    note,
    prepare_database,
    servers,
    settings_for,
    workspace,
    wrk,
)

NAME = "diary_week"
POSTGRES = f"{NAME}_postgresql"
TARGET = 0.5
LINES = ((NAME, TARGET, True), (POSTGRES, TARGET, True))
CONSULTATIONS = 200
CONSUMERS = 20
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ENTRY = re.compile(r'href="/workspace/appointments/[0-9a-f-]{36}"')


@dataclass(frozen=True)
class _Space(Workspace):
    """The bench's workspace, with staff's second factor off in its servers: the bench
    measures the diary, and a signed-in Professional's requests are the same either way."""

    def env(self, database: Location) -> dict[str, str]:
        return {**super().env(database), "STAFF_MFA_REQUIRED": "false"}


def run() -> bool:
    """The SQLite line, then the PostgreSQL one (each its own databases, full and empty)."""
    passed = guarded(NAME, TARGET, lambda: _measure(None))
    why = postgres.unreachable()
    if why is not None:
        postgres.skipped(POSTGRES, why)
        return passed
    created = postgres.names("diary_full", "diary_empty")
    with postgres.databases(list(created.values())):
        urls = {label: postgres.url(name) for label, name in created.items()}
        return guarded(POSTGRES, TARGET, lambda: _measure(urls)) and passed


def _measure(urls: dict[str, str] | None) -> float:
    """The full week against the empty one; on SQLite files, or the PostgreSQL ``urls``."""
    with workspace() as plain:
        space = _Space(plain.path, plain.secret)
        monday = today() - timedelta(days=today().weekday())
        path = f"/workspace/diary?view=week&date={monday.isoformat()}"
        full, full_clinic = _database(space, "full", urls["diary_full"] if urls else None)
        empty, _ = _database(space, "empty", urls["diary_empty"] if urls else None)
        _fill_week(space, full, full_clinic, monday)
        specs = [("ours", full, "full"), ("ours", empty, "empty")]
        with servers(space, specs) as (busy, idle):
            scripts = []
            for server, label in ((busy, "full"), (idle, "empty")):
                cookie = _sign_in(server.port, "bench.pro00")
                _check(server.port, path, cookie, CONSULTATIONS if label == "full" else 0)
                scripts.append(_script(space, label, path, cookie))
            for server, script in zip((busy, idle), scripts, strict=True):
                wrk(server.url, host=HOST, seconds=2, script=script)  # warm-up
            return compare(
                "full",
                lambda: measure(busy, host=HOST, seconds=SECONDS, script=scripts[0]),
                "empty",
                lambda: measure(idle, host=HOST, seconds=SECONDS, script=scripts[1]),
            )


def _database(space: Workspace, label: str, url: str | None) -> tuple[Location, BenchClinic]:
    database, _ = prepare_database(space, label, tenants=1, url=url)
    return database, add_clinic(space, database, professionals=1, consumers=CONSUMERS)


def _fill_week(space: Workspace, database: Location, clinic: BenchClinic, monday: date) -> None:
    settings = settings_for(space, database)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        asyncio.run(_add_consultations(settings, clinic, monday))


def _starts(monday: date) -> list[datetime]:
    """CONSULTATIONS starts spread over the week: every 15 minutes from 08:00, day by day."""
    zone, per_day = ZoneInfo(TIMEZONE), -(-CONSULTATIONS // 7)
    starts = []
    for n in range(CONSULTATIONS):
        day, k = divmod(n, per_day)
        local = datetime.combine(monday + timedelta(days=day), time(8), zone)
        starts.append((local + timedelta(minutes=15 * k)).astimezone(UTC))
    return starts


async def _add_consultations(settings: Any, clinic: BenchClinic, monday: date) -> None:
    """The week's consultations as rows, as booking leaves them (holds for the live ones):
    one in ten cancelled, one in twenty still awaiting payment."""
    from praxis.core.booking.models import Appointment, AppointmentStatus, SlotHold
    from praxis.core.booking.slots import hold_units
    from praxis.core.runtime import build_runtime

    rt = build_runtime(settings)
    pro = clinic.professionals[0]
    consumers = list(clinic.consumer_ids.values())
    try:
        async with rt.database.writing(clinic.tenant_id) as db:
            for n, start in enumerate(_starts(monday)):
                status = AppointmentStatus.BOOKED.value
                if n % 10 == 3:
                    status = AppointmentStatus.CANCELLED.value
                elif n % 20 == 7:
                    status = AppointmentStatus.AWAITING_PAYMENT.value
                end = start + timedelta(minutes=15)
                appointment = Appointment(
                    id=uuid.uuid4(),
                    professional_id=pro,
                    consumer_id=consumers[n % len(consumers)],
                    consultation_type_id=clinic.kinds[pro],
                    starts_at=start,
                    ends_at=end,
                    status=status,
                    mode="video",
                    price_minor=0,
                    currency="GBP",
                    created_at=start - timedelta(days=7),
                )
                db.add(appointment)
                if status != AppointmentStatus.CANCELLED.value:
                    db.add_all(
                        SlotHold(professional_id=pro, starts_at=unit, appointment_id=appointment.id)
                        for unit in hold_units(start, end)
                    )
            await db.commit()
    finally:
        await rt.close()


def _sign_in(port: int, username: str) -> str:
    """The Professional signs in through the login form; their cookie header."""
    browser = Browser()
    status, _, html = browser.request(port, "GET", "/login")
    token = _CSRF.search(html)
    if status != 200 or token is None:
        raise BenchError(f"the login page answered {status} without a CSRF field")
    form = {"csrf_token": token.group(1), "username": username, "password": PASSWORD}
    status, headers, _ = browser.request(port, "POST", "/login", form)
    if status != 303 or "praxis_session" not in browser.cookies:
        raise BenchError(f"signing in {username} answered {status} ({headers.get('location')})")
    return browser.cookie_header


def _check(port: int, path: str, cookie: str, expected: int) -> None:
    """The page answers 200 with every consultation of the week on it, or none."""
    browser = Browser(cookies=dict(part.split("=", 1) for part in cookie.split("; ")))
    status, _, html = browser.request(port, "GET", path)
    found = len(_ENTRY.findall(html))
    if status != 200 or found != expected:
        raise BenchError(f"{path} answered {status} with {found} consultations, not {expected}")
    note(f"{NAME}: {found} consultations on the page, {len(html)} characters")


def _script(space: Workspace, label: str, path: str, cookie: str) -> Path:
    script = space.path / f"diary-{label}.lua"
    script.write_text(
        f'wrk.path = "{path}"\nwrk.headers["Cookie"] = "{cookie}"\n', encoding="utf-8"
    )
    return script
