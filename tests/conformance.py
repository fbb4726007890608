"""`pytest --conformance`: one line per promise of PROMISES.md, from this very run.

P27 pass 12 tests
P05 missing
P13 fail (1 of 3 tests failing)
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

_PROMISE = re.compile(r"^- (P\d\d) ", re.MULTILINE)
_RESULTS: dict[str, str] = {}
_PROMISES_OF: dict[str, list[str]] = {}


def promises_file() -> Path:
    """PROMISES.md beside the project (../shared), or wherever PROMISES_FILE says."""
    here = Path(__file__).resolve().parent.parent
    return Path(os.environ.get("PROMISES_FILE", here.parent / "shared" / "PROMISES.md"))


def promise_ids(text: str) -> list[str]:
    return _PROMISE.findall(text)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--conformance", action="store_true", help="print which promises this run proves"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marks = [str(m.args[0]) for m in item.iter_markers("promise")]
        if marks:
            _PROMISES_OF[item.nodeid] = marks


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid not in _PROMISES_OF:
        return
    if report.failed:
        _RESULTS[report.nodeid] = "failed"
    elif report.when == "call" and report.passed:
        _RESULTS.setdefault(report.nodeid, "passed")
    elif report.skipped:
        _RESULTS.setdefault(report.nodeid, "skipped")


def conformance_lines(known: list[str]) -> list[str]:
    outcomes: dict[str, list[str]] = defaultdict(list)
    for nodeid, promises in _PROMISES_OF.items():
        for promise in promises:
            outcomes[promise].append(_RESULTS.get(nodeid, "not run"))
    lines = []
    for promise in known + sorted(set(outcomes) - set(known)):
        results = outcomes.get(promise, [])
        passed = results.count("passed")
        failing = len(results) - passed
        if not results:
            lines.append(f"{promise} missing")
        elif failing:
            lines.append(f"{promise} fail ({failing} of {len(results)} tests not passing)")
        else:
            lines.append(f"{promise} pass {passed} tests")
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not terminalreporter.config.getoption("--conformance"):
        return
    path = promises_file()
    known = promise_ids(path.read_text(encoding="utf-8")) if path.exists() else []
    terminalreporter.section("promises" + ("" if known else f" ({path} not found)"))
    for line in conformance_lines(known):
        terminalreporter.write_line(line)
