"""portal_page: the demo portal's home page, ours against a bare app rendering the same.

ratio = throughput of the whole Praxis app (tenant resolution, anonymous session lookup,
branding, security headers, request id, access log) / throughput of a one-route Starlette
app rendering the same template with the same context (bench.common.Measurement.rate says
how throughput is counted). What is left of 1.0 is what the platform around the template
costs per request.
"""

from __future__ import annotations

from bench.common import (
    DEMO_HOST,
    SECONDS,
    BenchError,
    compare,
    get,
    measure,
    prepare_database,
    report,
    servers,
    workspace,
    wrk,
)

NAME = "portal_page"
TARGET = 0.6
LINES = ((NAME, TARGET, True),)


def run() -> bool:
    with workspace() as space:
        database, _ = prepare_database(space, "portal", tenants=1)
        specs = [("ours", database, "ours"), ("bare", database, "bare")]
        with servers(space, specs) as (ours, bare):
            _same_page(ours.port, bare.port)
            for server in (ours, bare):
                wrk(server.url, host=DEMO_HOST, seconds=2)  # warm-up
            ratio = compare(
                "ours",
                lambda: measure(ours, host=DEMO_HOST, seconds=SECONDS),
                "bare",
                lambda: measure(bare, host=DEMO_HOST, seconds=SECONDS),
            )
    return report(NAME, ratio, TARGET)


def _same_page(ours: int, bare: int) -> None:
    """Both must serve the very same HTML, or the ratio compares different work."""
    ours_status, ours_body = get(ours, DEMO_HOST)
    bare_status, bare_body = get(bare, DEMO_HOST)
    if ours_status != 200 or bare_status != 200 or ours_body != bare_body:
        raise BenchError(
            f"the two servers do not serve the same page ({ours_status}, {bare_status}, "
            f"{len(ours_body)} and {len(bare_body)} bytes)"
        )
