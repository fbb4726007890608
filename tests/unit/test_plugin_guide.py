"""The plugin guide's example is real code: written out as a package, it loads and conforms."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import httpx
import pytest

from praxis.core.plugins import load_plugins
from praxis.core.providers.conformance import problems

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
BLOCK = re.compile(r"```python\n# praxis_sms_example/(\w+)\.py\n(.*?)```", re.DOTALL)


def test_the_guide_shows_the_three_modules() -> None:
    assert sorted(name for name, _ in BLOCK.findall(GUIDE.read_text())) == [
        "__init__",
        "provider",
        "settings",
    ]


async def test_the_guides_example_plugin_loads_and_conforms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "praxis_sms_example"
    package.mkdir()
    for name, code in BLOCK.findall(GUIDE.read_text()):
        (package / f"{name}.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    try:
        module = importlib.import_module("praxis_sms_example")
        plugins = load_plugins(extra=[module], entry_points=False)
        settings = {"api_key": "test-key", "sender": "+447700900123"}
        async with httpx.AsyncClient() as http:
            found = problems(
                plugins.manifests["sms_example"],
                plugins.factories["sms_example"],
                settings,
                http=http,
            )
    finally:
        for loaded in [m for m in sys.modules if m.startswith("praxis_sms_example")]:
            del sys.modules[loaded]
    assert found == []
