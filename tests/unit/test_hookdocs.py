"""Every hook is documented, Datasette style: a docstring with what it returns and an example,
a generated reference that is up to date, and a test that uses it."""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from praxis.core import hookspecs
from praxis.core.hookdocs import HEADER, hook_names, hook_reference
from praxis.core.plugins import load_plugins

ROOT = Path(__file__).resolve().parents[2]
HOOKS_MD = ROOT / "docs" / "hooks.md"
HOOKS = hook_names()


def docstring(name: str) -> str:
    return inspect.cleandoc(getattr(hookspecs, name).__doc__ or "")


def example_code(doc: str) -> str:
    """The indented block after ``Example::``."""
    after = doc.split("Example::", 1)[1]
    lines = after.splitlines()[1:]
    block = []
    for line in lines:
        if line.strip() and not line.startswith((" ", "\t")):
            break
        block.append(line)
    return textwrap.dedent("\n".join(block)).strip()


def test_there_are_hooks_and_pluggy_knows_the_same_ones() -> None:
    assert "praxis_manifest" in HOOKS
    manager = load_plugins(entry_points=False).manager
    specs = sorted(
        name for name in vars(manager.hook) if getattr(manager.hook, name).spec is not None
    )
    assert specs == HOOKS


@pytest.mark.parametrize("name", HOOKS)
def test_each_hook_has_a_docstring_with_returns_and_an_example(name: str) -> None:
    doc = docstring(name)
    summary = doc.splitlines()[0] if doc else ""
    assert summary.endswith("."), f"{name}: the docstring must open with a one-line summary"
    assert re.search(r"^Returns:\n    \S", doc, re.MULTILINE), f"{name}: no 'Returns:' section"
    assert "Example::" in doc, f"{name}: no 'Example::' block"
    code = example_code(doc)
    assert "@hookimpl" in code and f"def {name}(" in code, f"{name}: the example implements it"
    compile(code, f"<example of {name}>", "exec")


def documented_arguments(doc: str) -> list[str]:
    """The names an ``Arguments:`` section lists, one entry per line indented four spaces
    (``name``: what it is), up to the next line that is not indented."""
    if "Arguments:" not in doc:
        return []
    names = []
    for line in doc.split("Arguments:", 1)[1].splitlines()[1:]:
        if line.strip() and not line.startswith(" "):
            break
        entry = re.match(r"^    ``?(\w+)``?", line)
        if entry:
            names.append(entry.group(1))
    return names


def argument_problems(name: str, function: Callable[..., object]) -> list[str]:
    """What the docstring of a hook gets wrong about its arguments: each one it takes is
    listed under ``Arguments:``, and nothing else is."""
    doc = inspect.cleandoc(function.__doc__ or "")
    taken = list(inspect.signature(function).parameters)
    listed = documented_arguments(doc)
    problems = [f"{name}: argument {a} is not under 'Arguments:'" for a in taken if a not in listed]
    problems += [
        f"{name}: 'Arguments:' lists {a}, which it does not take" for a in listed if a not in taken
    ]
    if not taken and "Arguments:" in doc:
        problems.append(f"{name}: takes no arguments, yet has an 'Arguments:' section")
    return problems


@pytest.mark.parametrize("name", HOOKS)
def test_each_argument_of_a_hook_is_documented(name: str) -> None:
    assert argument_problems(name, getattr(hookspecs, name)) == []


def praxis_example(tenant: str, when: str) -> None:
    """Do something for a tenant.

    Arguments:
        ``tenant``: the tenant's slug.
        ``colour``: an argument the hook does not take.

    Returns:
        Nothing.
    """


def praxis_example_documented(tenant: str) -> None:
    """Do something for a tenant.

    Arguments:
        ``tenant``: the tenant's slug; a longer description
            may run on over several lines.

    Returns:
        Nothing.
    """


def praxis_example_without_arguments() -> None:
    """Do something.

    Arguments:
        ``tenant``: listed, though the hook takes nothing.
    """


def test_the_argument_check_finds_what_a_docstring_gets_wrong() -> None:
    """The check above can fail: a missing, an invented and a stray section are caught."""
    assert argument_problems("praxis_example", praxis_example) == [
        "praxis_example: argument when is not under 'Arguments:'",
        "praxis_example: 'Arguments:' lists colour, which it does not take",
    ]
    assert argument_problems(
        "praxis_example_without_arguments", praxis_example_without_arguments
    ) == [
        "praxis_example_without_arguments: 'Arguments:' lists tenant, which it does not take",
        "praxis_example_without_arguments: takes no arguments, yet has an 'Arguments:' section",
    ]
    assert argument_problems("praxis_example_documented", praxis_example_documented) == []


@pytest.mark.parametrize("name", HOOKS)
def test_each_hook_is_part_of_the_public_api(name: str) -> None:
    assert name in hookspecs.__all__


def test_docs_hooks_md_is_up_to_date() -> None:
    written = HOOKS_MD.read_text(encoding="utf-8")
    assert written == hook_reference(), "run `praxis plugins docs` (make docs) and commit"
    assert written.startswith(HEADER)


@pytest.mark.parametrize("name", HOOKS)
def test_docs_hooks_md_mentions_each_hook(name: str) -> None:
    written = HOOKS_MD.read_text(encoding="utf-8")
    assert re.search(rf"^## `{name}\(", written, re.MULTILINE), name
    assert docstring(name).splitlines()[0] in written


def test_the_reference_changes_when_a_docstring_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """hook_reference() really is generated from the docstrings, not a copy of the file."""
    function = hookspecs.praxis_manifest
    monkeypatch.setattr(function, "__doc__", "Changed.\n\nReturns:\n    Something.\n")
    assert "Changed." in hook_reference()
    assert hook_reference() != HOOKS_MD.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", HOOKS)
def test_each_hook_has_a_test(name: str) -> None:
    here = Path(__file__).name
    tests = [p for p in (ROOT / "tests").rglob("test_*.py") if p.name != here]
    assert any(name in p.read_text(encoding="utf-8") for p in tests), f"no test uses {name}"
