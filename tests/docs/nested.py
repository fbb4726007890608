"""Running a plugin package's own tests inside this test run, as ``pytest`` would in its folder.

The package is imported from its folder (never pip-installed, so its entry point is never
seen by the rest of the suite) and forgotten afterwards: its modules, the paths pytest added,
and no bytecode is left beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def run_its_tests(package: Path) -> pytest.ExitCode | int:
    """The exit code of ``pytest`` run on ``package``'s tests, with its own configuration."""
    modules, path, bytecode = set(sys.modules), list(sys.path), sys.dont_write_bytecode
    sys.path.insert(0, str(package))
    sys.dont_write_bytecode = True
    try:
        # Its plugins (hypothesis, schemathesis...) are already imported here, unrewritten:
        # pytest's warning that it cannot rewrite them now says nothing about the package.
        quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
        where = ["--rootdir", str(package)]
        return pytest.main([str(package / "tests"), "-q", "-p", "no:cacheprovider", *quiet, *where])
    finally:
        sys.path[:] = path
        sys.dont_write_bytecode = bytecode
        for name in set(sys.modules) - modules:
            location = getattr(sys.modules[name], "__file__", None) or ""
            if name == "conftest" or location.startswith(str(package)):
                del sys.modules[name]
