"""`pytest --conformance`: one line per promise of PROMISES.md, from this very run.

P27 pass 12 tests
P05 missing
P13 fail (1 of 3 tests not passing)

A promise mark is a claim, so a test marked with one must check something: every `assert`
that passes during the test's call counts (pytest's assertion pass hook, enabled in
pyproject.toml; helpers such as tests.support are rewritten too, see tests/conftest.py), and
so does every ``pytest.raises`` that caught its exception. A promise test that passes having
counted none fails, saying so.

Under pytest-xdist the workers run the tests and the controller prints the report: each
test's promises travel with its reports (``user_properties``).
"""

from __future__ import annotations

import functools
import os
import re
import sys
import types
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any

import pytest

_PROMISE = re.compile(r"^- (P\d\d) ", re.MULTILINE)
PROPERTY = "promises"  # the user property naming a test's promises, comma-separated
_CHECKED = pytest.StashKey[int | None]()  # checks counted during a test's call


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


# --- counting what a test checks -----------------------------------------------------------


class _Checks:
    """Checks passed during the current test's call; None outside one."""

    count: int | None = None

    @classmethod
    def add(cls) -> None:
        if cls.count is not None:
            cls.count += 1


class _CountedRaises:
    """``with pytest.raises(...)``, counted when the expected exception was caught."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __enter__(self) -> Any:
        return self._inner.__enter__()

    def __exit__(self, *exc_info: Any) -> Any:
        __tracebackhide__ = True
        caught = self._inner.__exit__(*exc_info)
        if caught:
            _Checks.add()
        return caught

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _counting(raises: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(raises)
    def counted(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if len(args) > 1:  # pytest.raises(Error, function, *arguments): raised, or it failed
            info = raises(*args, **kwargs)
            _Checks.add()
            return info
        return _CountedRaises(raises(*args, **kwargs))

    counted.__wrapped_raises__ = raises  # type: ignore[attr-defined]
    return counted


def _names(code: types.CodeType) -> set[str]:
    found = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _names(const)
    return found


def _rewritten_without_pass_hook(module: types.ModuleType) -> bool:
    """True for a module whose asserts pytest rewrote before the pass hook was enabled: its
    bytecode came from a stale cache (pytest's cache key does not include that setting)."""
    names: set[str] = set()
    for value in vars(module).values():
        functions = [value] + (list(vars(value).values()) if isinstance(value, type) else [])
        for function in functions:
            code = getattr(getattr(function, "__wrapped__", function), "__code__", None)
            if isinstance(code, types.CodeType) and code.co_filename == module.__file__:
                names |= _names(code)
    return "_format_explanation" in names and "_check_if_assertion_pass_impl" not in names


class Conformance:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.promises_of: dict[str, list[str]] = {}
        self.results: dict[str, str] = {}

    # -- on whichever process collects and runs tests (the only one, or each xdist worker)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        modules: set[types.ModuleType] = set()
        for item in items:
            marks = [str(m.args[0]) for m in item.iter_markers("promise")]
            if marks:
                self.promises_of[item.nodeid] = marks
                item.user_properties.append((PROPERTY, ",".join(marks)))
                module = getattr(item, "module", None)
                if module is not None:
                    modules.add(module)
        helpers = [m for name, m in sys.modules.items() if name.startswith("tests.")]
        stale = sorted(
            {m.__name__ for m in [*modules, *helpers] if _rewritten_without_pass_hook(m)}
        )
        if stale:
            raise pytest.UsageError(
                "these modules were loaded from pytest bytecode cached before "
                f"enable_assertion_pass_hook was set: {', '.join(stale)}. Delete it: "
                "find tests -path '*__pycache__*' -name '*pytest*.pyc' -delete"
            )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        _Checks.count = 0
        try:
            return (yield)
        finally:
            item.stash[_CHECKED] = _Checks.count
            _Checks.count = None

    def pytest_assertion_pass(self, item: pytest.Item, lineno: int, orig: str, expl: str) -> None:
        _Checks.add()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        promises = self.promises_of.get(item.nodeid)
        if report.when == "call" and report.passed and promises and not item.stash.get(_CHECKED, 0):
            report.outcome = "failed"
            report.longrepr = (
                f"{item.nodeid} is marked with promise {', '.join(promises)} but checked "
                "nothing: no assert passed and no pytest.raises caught anything while it ran. "
                "Assert what the promise guarantees, or remove the mark."
            )
        return report

    # -- on the process that reports (the only one, or the xdist controller)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == PROPERTY:
                self.promises_of.setdefault(report.nodeid, str(value).split(","))
        if report.nodeid not in self.promises_of:
            return
        if report.failed:
            self.results[report.nodeid] = "failed"
        elif report.when == "call" and report.passed:
            self.results.setdefault(report.nodeid, "passed")
        elif report.skipped:
            self.results.setdefault(report.nodeid, "skipped")

    def lines(self, known: Iterable[str]) -> list[str]:
        return conformance_lines(list(known), self.promises_of, self.results)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.config.getoption("--conformance"):
            return
        path = promises_file()
        known = promise_ids(path.read_text(encoding="utf-8")) if path.exists() else []
        terminalreporter.section("promises" + ("" if known else f" ({path} not found)"))
        for line in self.lines(known):
            terminalreporter.write_line(line)


def conformance_lines(
    known: list[str], promises_of: dict[str, list[str]], results: dict[str, str]
) -> list[str]:
    outcomes: dict[str, list[str]] = defaultdict(list)
    for nodeid, promises in promises_of.items():
        for promise in promises:
            outcomes[promise].append(results.get(nodeid, "not run"))
    lines = []
    for promise in known + sorted(set(outcomes) - set(known)):
        found = outcomes.get(promise, [])
        passed = found.count("passed")
        failing = len(found) - passed
        if not found:
            lines.append(f"{promise} missing")
        elif failing:
            lines.append(f"{promise} fail ({failing} of {len(found)} tests not passing)")
        else:
            lines.append(f"{promise} pass {passed} tests")
    return lines


def pytest_configure(config: pytest.Config) -> None:
    if not config.getini("enable_assertion_pass_hook"):
        raise pytest.UsageError(
            "tests/conformance.py counts passing asserts: it needs "
            "enable_assertion_pass_hook = true (pyproject.toml, [tool.pytest.ini_options])"
        )
    config.pluginmanager.register(Conformance(config), "praxis-conformance")
    if not hasattr(pytest.raises, "__wrapped_raises__"):
        pytest.raises = _counting(pytest.raises)


def pytest_unconfigure(config: pytest.Config) -> None:
    original = getattr(pytest.raises, "__wrapped_raises__", None)
    if original is not None:
        pytest.raises = original
