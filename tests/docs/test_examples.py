"""The example plugins under docs/examples are real: each one's own tests pass, run here.

Each example is a package an integrator could copy and publish. Its tests run in this
process, as ``pytest`` would run them in the example's folder, with the example imported
from docs/examples by path (tests/docs/nested.py): it is never pip-installed, so its entry
point is never seen by the rest of the suite. What each example imports is checked too: the
public plugin API only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from praxis.core.providers.kinds import KINDS
from tests.docs.nested import run_its_tests

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "docs" / "examples"
EXAMPLES = sorted(p for p in EXAMPLES_DIR.iterdir() if (p / "pyproject.toml").is_file())
# What a plugin may import from Praxis (README, Writing a plugin); its tests add the kit.
PUBLIC = ("praxis.core.hookspecs", "praxis.core.providers")
PUBLIC_IN_TESTS = (*PUBLIC, "praxis.core.testing")


def test_there_is_an_example_for_each_kind_that_sends_data() -> None:
    sending = {name for name, kind in KINDS.items() if any(op.sends for op in kind.operations)}
    assert sending == {"video", "payments", "sms", "email"}
    assert sending <= {p.name.split("-")[1] for p in EXAMPLES}, [p.name for p in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_the_examples_own_tests_pass(example: Path) -> None:
    outcome = run_its_tests(example)
    assert outcome == pytest.ExitCode.OK, f"{example.name}: its tests failed (output above)"


def imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_the_examples_use_only_the_public_plugin_api(example: Path) -> None:
    wrong = []
    for path in sorted(example.rglob("*.py")):
        allowed = PUBLIC_IN_TESTS if "tests" in path.relative_to(example).parts else PUBLIC
        for name in imported(path):
            if name.split(".")[0] == "praxis" and not name.startswith(allowed):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []
