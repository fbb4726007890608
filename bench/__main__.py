"""``python -m bench [SCENARIO ...]``: run the scenarios (all by default), one line per result.

Each line reads ``NAME ratio=X target>=Y PASS|FAIL`` (``target<=Y`` where lower is better).
The exit status is non-zero if any line fails. Details and raw numbers go to stderr.
"""

from __future__ import annotations

import signal
import sys
import traceback
from types import ModuleType

from bench import (
    booking_write,
    diary_week,
    directory_page,
    dsar_export,
    free_times,
    ledger_subject_query,
    portal_page,
    tenant_scale,
    webhook_ingest,
)
from bench.common import ensure_wrk, report

SCENARIOS: dict[str, ModuleType] = {
    "portal_page": portal_page,
    "tenant_scale": tenant_scale,
    "booking_write": booking_write,
    "webhook_ingest": webhook_ingest,
    "ledger_subject_query": ledger_subject_query,
    "dsar_export": dsar_export,
    "diary_week": diary_week,
    "free_times": free_times,
    "directory_page": directory_page,
}


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in SCENARIOS]
    if unknown:
        choices = ", ".join(SCENARIOS)
        print(f"unknown scenario(s): {', '.join(unknown)}; choose from {choices}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so servers are stopped
    ensure_wrk()
    passed = True
    for name in argv or list(SCENARIOS):
        scenario = SCENARIOS[name]
        try:
            ok = bool(scenario.run())
        except Exception:  # a broken measurement fails its lines, and the others still run
            traceback.print_exc()
            for line, target, higher in scenario.LINES:  # a worst value: the line fails
                report(line, 0.0 if higher else float("inf"), target, higher_is_better=higher)
            ok = False
        passed = passed and ok
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
