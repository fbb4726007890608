"""The suite's time budget: with PRAXIS_SUITE_BUDGET_SECONDS set, the summary ends with the
run's own time against it, so a change that makes the suite slow is seen the day it lands. A
warning, not a failure: a busy machine must not turn CI red. `make test` runs the suite in two
parts, each with its budget (CI: 120 s for the tests without a browser, 60 s for the browser
journeys, PRAXIS_BROWSER_BUDGET_SECONDS); PRAXIS_SUITE_PART names the part in the line."""

from __future__ import annotations

import os
import time

import pytest

_STARTED: list[float] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _STARTED.append(time.monotonic())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    budget = float(os.environ.get("PRAXIS_SUITE_BUDGET_SECONDS") or 0)
    if not budget or not _STARTED or hasattr(terminalreporter.config, "workerinput"):
        return  # no budget set, or an xdist worker (the controller reports)
    took = time.monotonic() - _STARTED[0]
    over = took > budget
    part = os.environ.get("PRAXIS_SUITE_PART") or "suite"
    said = f"{part} time {took:.0f} s against a budget of {budget:.0f} s"
    terminalreporter.write_line(f"WARNING: over budget: {said}" if over else said, yellow=over)
