"""docs/privacy.md, the data protection officer's guide, is true for a new user: every page it
sends them to is served, and it speaks to each promise of privacy and rights."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Match, Mount, Route

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "privacy.md"
PROMISES = ["P17", "P18", "P20", "P21", "P23", "P26", "P28", "P29", "P30", "P31", "P32", "P33"]
PROMISES += ["P34", "P35"]


def served(app: Any, method: str, path: str) -> bool:
    scope = {"type": "http", "method": method, "path": path}
    for route in app.routes:
        if isinstance(route, Route) and route.matches(scope)[0] == Match.FULL:
            return True
        if isinstance(route, Mount) and path.startswith(route.path):
            inner = {**scope, "path": path.removeprefix(route.path) or "/"}
            if any(r.matches(inner)[0] == Match.FULL for r in route.routes):
                return True
    return False


def test_the_guide_speaks_to_each_promise_and_links_the_notice_guide() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert [p for p in PROMISES if p not in text] == []
    assert "(privacy-notices.md)" in text and (ROOT / "docs" / "privacy-notices.md").exists()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/privacy.md)" in readme


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_page_the_guide_names_is_served(app: Any) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:/account|/admin|/api/v1|/privacy|/platform)[^`\s]*)`", text))
    assert len(paths) > 15
    missing = [
        path
        for path in sorted(paths)
        if not any(served(app, method, path) for method in ("GET", "POST"))
    ]
    assert missing == []
