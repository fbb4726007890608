"""booking_write: a signed-in consumer books a free time, ours against one bare INSERT.

ours: ``POST /appointments`` on ``bench.localhost`` as the "Book" button on the booking page
sends it (the form, its CSRF token bound to the session, the session and CSRF cookies),
through ``core.app.create_app`` as served: session lookup, CSRF, validation, the free-slot
check, the appointment and its slot holds, the ledger row, the outbox jobs (SMS, email,
video room), one commit, and the redirect to "My appointments". ``BENCH_BOOKING_VIA=api``
books through ``POST /api/v1/appointments`` (JSON, ``X-CSRF-Token``) instead.

bare: the ``store`` server (bench.servers) storing each request's body in one INSERT and
one commit on the same database.

Every request books a time of its own: a precomputed walk over every free start of four
Professionals' year-long all-day diaries, spread over the days; a response that is not the
booking's success (a taken time redirects back to the booking page, or answers 409) fails
the run.

Two lines: ``booking_write`` with both servers on one temp SQLite file, and
``booking_write_postgresql`` with each on a fresh database of its own on the PostgreSQL
server at 127.0.0.1:5432 (bench.postgres; skipped if it does not answer), ours connecting
as the app does (``SET ROLE praxis_app``, row-level security, ``app.tenant_id`` per
transaction).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlencode

from bench import postgres
from bench.clinic import (
    HORIZON_DAYS,
    HOST,
    SLOT_MINUTES,
    Browser,
    add_clinic,
    free_starts,
    sign_in,
    spread,
    today,
)
from bench.common import (
    BenchError,
    Location,
    Workspace,
    note,
    prepare_database,
    servers,
)
from bench.replay import Feed, paired, replay_script, write_lines

NAME = "booking_write"
POSTGRES = f"{NAME}_postgresql"
# Regression guards just below what the write path measures (bench/README.md: a booking that
# keeps its promises cannot reach the 0.5 first asked for; the round trips are counted
# exactly in tests/functional/test_round_trips.py).
TARGETS = (0.13, 0.07)  # SQLite, PostgreSQL
LINES = ((NAME, TARGETS[0], True), (POSTGRES, TARGETS[1], True))
PROFESSIONALS = 4
CONSUMERS = 16  # each signs in once: under the login limit of 30 a minute per client
VIA = os.environ.get("BENCH_BOOKING_VIA", "form")


def run() -> bool:
    if VIA not in ("form", "api"):
        raise BenchError(f"BENCH_BOOKING_VIA is {VIA!r}: use form or api")
    return postgres.on_both_backends(
        (NAME, POSTGRES), TARGETS, "booking", prepare_database, _measure
    )


def _measure(space: Workspace, database: Location, bare_database: Location, label: str) -> float:
    """Seed the bench clinic into ``database``, then pair ours on it with store on
    ``bare_database`` (which may be the same)."""
    clinic = add_clinic(space, database, professionals=PROFESSIONALS, consumers=CONSUMERS)
    from praxis.core.db import utcnow

    now = utcnow()
    starts = spread(free_starts(today(now), HORIZON_DAYS, now=now), 24 * 60 // SLOT_MINUTES)
    pros = clinic.professionals
    specs = [("ours", database, "ours"), ("store", bare_database, "bare")]
    with servers(space, specs) as (ours, bare):
        pro = pros[0]
        page = f"/professionals/{pro}/book?type={clinic.kinds[pro]}"
        browsers = [sign_in(ours.port, name, page) for name in clinic.consumers]

        def bookings(start: int, stop: int) -> Iterator[Sequence[str]]:
            for j in range(start, stop):
                pro = pros[j % len(pros)]
                when = starts[j // len(pros)].isoformat()
                yield _request(browsers[j % len(browsers)], pro, clinic.kinds[pro], when)

        feed = Feed(space, "bookings", len(starts) * len(pros), bookings)
        ours_script, bare_script = _scripts(space)
        bare_data = space.path / "bare-bookings.tsv"
        write_lines(bare_data, bookings(0, 20_000))  # the bare server books nothing
        ratio = paired(label, ours, ours_script, feed, bare, bare_script, bare_data)
        note(f"booking via {VIA}: {feed.position} bookings sent of {feed.total} prepared")
    note(f"{label}written: {_written(database)}")
    return ratio


def _request(browser: Browser, pro: object, kind: object, when: str) -> Sequence[str]:
    fields = {"professional_id": str(pro), "consultation_type_id": str(kind), "starts_at": when}
    if VIA == "api":
        return browser.cookie_header, browser.csrf, json.dumps(fields, separators=(",", ":"))
    return browser.cookie_header, urlencode({"csrf_token": browser.csrf, **fields})


def _scripts(space: Workspace) -> tuple[Path, Path]:
    """ours must answer as a booking does; bare stores the very same requests."""
    if VIA == "api":
        path, names, kind = "/api/v1/appointments", ["Cookie", "X-CSRF-Token"], "application/json"
        status, location = 201, None
    else:
        path, names, kind = "/appointments", ["Cookie"], "application/x-www-form-urlencoded"
        status, location = 303, "/appointments"  # a taken time redirects to the booking page
    headers = {"Host": HOST, "Content-Type": kind}
    ours = replay_script(
        space,
        "book-ours",
        method="POST",
        path=path,
        headers=headers,
        line_headers=names,
        expect_status=status,
        expect_location=location,
    )
    bare = replay_script(
        space,
        "book-bare",
        method="POST",
        path=path,
        headers=headers,
        line_headers=names,
        expect_status=201,
    )
    return ours, bare


def _written(database: Location) -> str:
    """What the runs left behind: one appointment per booking, and what came with it."""
    tables = ("appointments", "slot_holds", "ledger_events", "outbox_jobs")
    return postgres.counted(database, {t: f"SELECT count(*) FROM {t}" for t in tables})
