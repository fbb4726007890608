"""tests/conformance.py itself: a promise test that checks nothing fails, and the report is
the same whether one process runs the tests or pytest-xdist's workers do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = """
import pytest


@pytest.mark.promise("P01")
def test_claims_but_checks_nothing():
    total = sum([1, 2])


@pytest.mark.promise("P02")
def test_claims_and_asserts():
    assert sum([1, 2]) == 3


@pytest.mark.promise("P03")
def test_claims_and_expects_an_error():
    with pytest.raises(ZeroDivisionError):
        1 / 0


@pytest.mark.promise("P03")
def test_claims_and_expects_an_error_from_a_call():
    pytest.raises(ZeroDivisionError, divmod, 1, 0)


@pytest.mark.promise("P04")
def test_claims_and_checks_in_a_helper():
    import helpers

    helpers.check_sum()


def test_not_a_claim_so_it_may_check_nothing():
    total = sum([1, 2])
"""
HELPERS = """
def check_sum():
    assert sum([1, 2]) == 3
"""
CONFTEST = """
import pytest

pytest.register_assert_rewrite("helpers")
"""
INI = """[pytest]
markers = promise(id): the promise this test proves
enable_assertion_pass_hook = true
addopts = -p tests.conformance -p no:cacheprovider
"""
PROMISES = "- P01 a\n- P02 b\n- P03 c\n- P04 d\n- P05 e\n"


def run(folder: Path, repo_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(repo_root)
    env["PROMISES_FILE"] = str(folder / "PROMISES.md")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--conformance", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def example(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "test_example.py").write_text(EXAMPLE)
    (tmp_path / "PROMISES.md").write_text(PROMISES)
    return tmp_path


REPORT = [
    "P01 fail (1 of 1 tests not passing)",
    "P02 pass 1 tests",
    "P03 pass 2 tests",
    "P04 pass 1 tests",
    "P05 missing",
]


def report(output: str) -> list[str]:
    lines = output.split("= promises =", 1)[1].splitlines()[1:]
    return [line for line in lines if line.startswith("P")]


def test_a_promise_test_that_checks_nothing_fails_naming_itself(
    example: Path, repo_root: Path
) -> None:
    result = run(example, repo_root, "-p", "no:xdist")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 5 passed" in result.stdout
    assert (
        "test_example.py::test_claims_but_checks_nothing is marked with promise P01 but "
        "checked nothing"
    ) in result.stdout
    assert report(result.stdout) == REPORT


def test_the_report_is_the_same_from_xdist_workers(example: Path, repo_root: Path) -> None:
    result = run(example, repo_root, "-n", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 5 passed" in result.stdout
    assert "checked nothing" in result.stdout
    assert report(result.stdout) == REPORT
