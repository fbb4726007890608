"""The plugin documentation is true: the guide's code is the example plugins' code (and their
tests run in tests/docs/test_examples.py), every file, folder, link and module it names
exists, and it covers what an integrator must know."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugins.md"
DOCS = [
    GUIDE,
    ROOT / "docs" / "providers.md",
    ROOT / "docs" / "plugin-api-changelog.md",
    ROOT / "docs" / "examples" / "README.md",
]
# A fenced block whose first line names an example's file: the rest is quoted from it.
QUOTE = re.compile(r"```\w+\n# (docs/examples/\S+)\n(.*?)```", re.DOTALL)
REPO_PATH = re.compile(r"`((?:core|plugins|tests|docs)/[\w./-]*)`")
MODULE = re.compile(r"`(praxis\.(?:core|plugins)(?:\.\w+)+)`")
LINK = re.compile(r"\]\(([^)#:]+)(?:#[^)]*)?\)")


def writing_a_plugin() -> str:
    """README.md's "Writing a plugin" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Writing a plugin", 1)[1].split("\n## ", 1)[0]


def test_the_guide_quotes_a_whole_plugin() -> None:
    quoted = {path for path, _ in QUOTE.findall(GUIDE.read_text(encoding="utf-8"))}
    heron = "docs/examples/praxis-sms-heron/"
    assert {
        heron + "pyproject.toml",
        heron + "praxis_sms_heron/__init__.py",
        heron + "praxis_sms_heron/settings.py",
        heron + "praxis_sms_heron/provider.py",
        heron + "tests/test_heron.py",
    } <= quoted


@pytest.mark.parametrize("document", DOCS, ids=lambda p: p.name)
def test_quoted_code_is_word_for_word_the_examples(document: Path) -> None:
    for path, code in QUOTE.findall(document.read_text(encoding="utf-8")):
        source = (ROOT / path).read_text(encoding="utf-8")
        assert code in source, f"{document.name} quotes {path}, but the file says otherwise"


@pytest.mark.parametrize("document", DOCS, ids=lambda p: p.name)
def test_every_path_link_and_module_named_exists(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    for path in REPO_PATH.findall(text):
        assert (ROOT / path).exists(), f"{document.name} names {path}, which does not exist"
    for link in LINK.findall(text):
        assert (document.parent / link).exists(), f"{document.name} links to a missing {link}"
    for name in MODULE.findall(text):
        assert _importable(name), f"{document.name} names {name}, which cannot be imported"


def test_readme_points_integrators_at_each_document() -> None:
    section = writing_a_plugin()
    for target in ["docs/plugins.md", "docs/providers.md", "docs/plugin-api-changelog.md"]:
        assert f"]({target})" in section and (ROOT / target).exists(), target
    assert "praxis plugins new" in section


@pytest.mark.parametrize(
    "topic",
    [
        "AnswerLost",
        "`recovered`",
        "WebhookRejected",
        "OPERATOR_ONLY",
        "`requires`",
        "PLUGIN_API",
        "praxis.core.testing",
        "make run",
        "praxis plugins new",
        "praxis plugins list",
        "praxis plugins check",
        "DISABLED",
    ],
)
def test_the_guide_covers(topic: str) -> None:
    assert topic in GUIDE.read_text(encoding="utf-8")


def _importable(dotted: str) -> bool:
    """A module, or an attribute of one (``praxis.core.providers.common.AnswerLost``)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 1, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False
