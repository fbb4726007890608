"""axe-core in the browser tests: every page a journey visits is checked at desktop width and at
phone width, and a screenshot of each is kept in the run's output folder.

axe-core comes from npm (`make axe`, which `make test` and `.ci/run` call: it runs
`npm install --no-save --prefix .axe axe-core@4` once, into the git-ignored `.axe/`);
PRAXIS_AXE_JS names another copy of axe.min.js. Without it the journey is skipped locally and
fails where PRAXIS_REQUIRE_BROWSER is set (CI). Screenshots go to PRAXIS_E2E_SCREENSHOTS when
set, else to the test's own tmp_path.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = Path(os.environ.get("PRAXIS_AXE_JS") or ROOT / ".axe/node_modules/axe-core/axe.min.js")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
FAILING = ("serious", "critical")  # minor and moderate ones are reported, not failed on

# Every violation, reduced to what a person needs to find it: rule, impact, help, nodes.
_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
  }));
}"""


MISSING = f"axe-core is not installed at {AXE_JS}: run `make axe`"
if not AXE_JS.exists() and os.environ.get("PRAXIS_REQUIRE_BROWSER"):
    raise RuntimeError(MISSING)  # where browsers are required, so is axe: never a quiet skip

# For the modules that use it: without axe-core (no npm on this machine) there is no check.
needs_axe = pytest.mark.skipif(not AXE_JS.exists(), reason=MISSING)


def axe_source() -> str:
    """The text of axe.min.js (modules using it are marked ``needs_axe``)."""
    return AXE_JS.read_text()


def violations(page: Any, source: str) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now, of every impact.

    The app's CSP forbids inline scripts, so add_script_tag (which inlines) would be blocked;
    page.evaluate goes through the DevTools protocol, which CSP does not govern."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    found: list[dict[str, Any]] = page.evaluate(_RUN)
    return found


def describe(name: str, url: str, found: list[dict[str, Any]]) -> str:
    lines = [f"{name} ({url}):"]
    for v in found:
        lines.append(f"  {v['id']} [{v['impact']}] {v['help']}: {', '.join(v['nodes'])}")
    return "\n".join(lines)


@dataclass
class Inspector:
    """Checks each page of a journey with axe at both widths (and that it does not scroll
    sideways) and keeps a screenshot of each."""

    source: str
    folder: Path
    faults: list[str] = field(default_factory=list)  # serious or critical: the test fails
    notes: list[str] = field(default_factory=list)  # minor or moderate: written to a report
    pages: list[str] = field(default_factory=list)

    def look(self, page: Any, name: str) -> None:
        """axe and a screenshot at desktop width, then the same at 390 px, then back."""
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        number = len(self.pages) + 1
        self.pages.append(name)
        for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            shot = self.folder / f"{number:02d}-{slug}-{width}.jpeg"
            page.screenshot(path=shot, full_page=True, quality=80)  # JPEG: half PNG's time
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > viewport["width"]:  # a page that scrolls sideways fails a phone too
                self.faults.append(f"{name}, {width} ({page.url}): {wide} px wide")
            found = violations(page, self.source)
            failing = [v for v in found if v["impact"] in FAILING]
            other = [v for v in found if v["impact"] not in FAILING]
            if failing:
                self.faults.append(describe(f"{name}, {width}", page.url, failing))
            if other:
                self.notes.append(describe(f"{name}, {width}", page.url, other))
        page.set_viewport_size(DESKTOP)

    def assert_clean(self) -> None:
        """Fails naming each page, rule and nodes; axe-report.txt beside the screenshots."""
        report = self.faults + self.notes or ["No violations."]
        (self.folder / "axe-report.txt").write_text("\n".join(report) + "\n")
        assert not self.faults, "axe found serious or critical violations:\n" + "\n".join(
            self.faults
        )


def screenshots_folder(tmp_path: Path) -> Path:
    named = os.environ.get("PRAXIS_E2E_SCREENSHOTS")
    folder = Path(named) if named else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
