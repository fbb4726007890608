"""portal_page: the demo portal's home page, ours against a bare app rendering the same.

ratio = throughput of the whole Praxis app (tenant resolution, anonymous session lookup,
branding, security headers, request id, access log) / throughput of a one-route Starlette
app rendering the same template with the same context (bench.common.Measurement.rate says
how throughput is counted). What is left of 1.0 is what the platform around the template
costs per request.

portal_page_counted: the same, with the demo clinic counting visits (P08) and every request
from a visitor who accepted analytics cookies and was already seen today: ours reads both
cookies and counts each view (written in the background every few seconds); the page is
the same, so the bare app is too.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import (
    DEMO_HOST,
    SECONDS,
    BenchError,
    Location,
    Workspace,
    compare,
    get,
    measure,
    note,
    prepare_database,
    report,
    servers,
    workspace,
    wrk,
)

NAME = "portal_page"
COUNTED = "portal_page_counted"
TARGET = 0.6
LINES = ((NAME, TARGET, True), (COUNTED, TARGET, True))


def run() -> bool:
    plain = _run(NAME, counting=False)
    return _run(COUNTED, counting=True) and plain


def _run(name: str, *, counting: bool) -> bool:
    with workspace() as space:
        database, _ = prepare_database(space, "portal", tenants=1)
        script, cookie = _accepted(space, database) if counting else (None, None)
        specs = [("ours", database, "ours"), ("bare", database, "bare")]
        with servers(space, specs) as (ours, bare):
            _same_page(ours.port, bare.port, cookie)
            for server in (ours, bare):
                wrk(server.url, host=DEMO_HOST, seconds=2, script=script)  # warm-up
            ratio = compare(
                "ours",
                lambda: measure(ours, host=DEMO_HOST, seconds=SECONDS, script=script),
                "bare",
                lambda: measure(bare, host=DEMO_HOST, seconds=SECONDS, script=script),
            )
        if counting:
            _check_counted(database)
    return report(name, ratio, TARGET)


def _accepted(space: Workspace, database: Location) -> tuple[Path, str]:
    """Turn counting on for the demo clinic; the cookies of a visitor who accepted and was
    already counted today, and a wrk script sending them."""
    if not isinstance(database, Path):
        raise BenchError("portal_page runs on SQLite")
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE tenants SET count_visits = 1 WHERE slug = 'demo'")
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()
    cookie = f"praxis_cookie_choice=accept; praxis_visitor={'b' * 16}.{today:%Y%m%d}.{today:%Y%m%d}"
    script = space.path / "accepted.lua"
    script.write_text(f'wrk.headers["Cookie"] = "{cookie}"\n', encoding="utf-8")
    return script, cookie


def _check_counted(database: Location) -> None:
    """The views were really counted (at least those written while the run lasted)."""
    assert isinstance(database, Path)
    with sqlite3.connect(database) as connection:
        views = connection.execute("SELECT coalesce(sum(views), 0) FROM visit_counts").fetchone()
    if not views or views[0] <= 0:
        raise BenchError("portal_page_counted: no view was counted")
    note(f"{COUNTED}: {views[0]} views counted")


def _same_page(ours: int, bare: int, cookie: str | None) -> None:
    """Both must serve the very same HTML, or the ratio compares different work."""
    ours_status, ours_body = get(ours, DEMO_HOST, cookie=cookie)
    bare_status, bare_body = get(bare, DEMO_HOST, cookie=cookie)
    if ours_status != 200 or bare_status != 200 or ours_body != bare_body:
        raise BenchError(
            f"the two servers do not serve the same page ({ours_status}, {bare_status}, "
            f"{len(ours_body)} and {len(bare_body)} bytes)"
        )
