"""The import arrows point one way: read every module's imports with ``ast`` and check them.

web -> services (accounts, booking, ...) -> providers / ledger / outbox -> db. Plugins see only
the public plugin API. Nothing uses BaseHTTPMiddleware (it breaks contextvars and is slow).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.source import (
    PLUGIN_API,
    PUBLIC_PROVIDER_MODULES,
    ROOT,
    imports,
    module_name,
    modules,
    within,
)


def violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in modules(folder):
        for line, name in imports(path):
            if any(within(name, bad) for bad in forbidden):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


# --- the checker itself ----------------------------------------------------------------------


def test_the_checker_reads_every_kind_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    source = (
        "import praxis.core.web.routing\n"
        "from praxis.core.db import Base\n"
        "from ..web import context\n"
        "from . import slots\n"
        "def later():\n"
        "    from sqlalchemy import select\n"
        "    importlib.import_module('praxis.tenants.models')\n"
    )
    sample.write_text(source, encoding="utf-8")
    names = {name for _, name in imports(sample, "praxis.core.booking.sample")}
    assert {
        "praxis.core.web.routing",
        "praxis.core.db",
        "praxis.core.db.Base",
        "praxis.core.web",
        "praxis.core.web.context",
        "praxis.core.booking.slots",
        "sqlalchemy",
        "praxis.tenants.models",
    } <= names


def test_there_is_something_to_check() -> None:
    assert modules("core/hookspecs.py") == [ROOT / "core" / "hookspecs.py"]
    assert len(modules("plugins")) >= 4
    assert len(modules("core/accounts")) >= 5
    assert len(modules("core/booking")) >= 5
    assert len(modules("tenants")) >= 4


# --- the arrows ------------------------------------------------------------------------------


def plugin_import_problems(path: Path, name: str) -> list[str]:
    own = name.split(".")[:3]
    found = []
    for line, imported in imports(path, name):
        first = imported.split(".")[0]
        if (
            first == "praxis"
            and imported.split(".")[1] in {"core", "tenants", "migrations"}
            and not any(within(imported, api) for api in PLUGIN_API)
        ):
            found.append(f"{path.name}:{line} imports {imported}")
        elif imported.startswith("praxis.plugins.") and imported.split(".")[:3] != own:
            found.append(f"{path.name}:{line} imports another plugin: {imported}")
    return found


def test_plugins_import_only_the_public_plugin_api() -> None:
    found = [
        p for path in modules("plugins") for p in plugin_import_problems(path, module_name(path))
    ]
    assert found == []


def test_a_plugin_importing_the_facade_or_a_model_would_be_caught(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from praxis.core.plugins.facade import Facade\nimport praxis.core.booking.models\n"
        "from praxis.core.providers.sms import SmsMessage\n",
        encoding="utf-8",
    )
    problems = plugin_import_problems(sample, "praxis.plugins.sample.sample")
    assert any("praxis.core.plugins.facade" in p for p in problems)
    assert any("praxis.core.booking.models" in p for p in problems)
    assert not any("praxis.core.providers.sms" in p for p in problems)


@pytest.mark.parametrize("forbidden", ["sqlalchemy", "starlette.requests", "alembic"])
def test_plugins_never_touch_the_database_or_requests(forbidden: str) -> None:
    assert violations("plugins", (forbidden,)) == []


# --- the kernel's units: each core package or module, tenants, each plugin ------------------

# Each unit imports only units of a lower rank: the arrows point down, so there is no cycle.
# web -> services (the domains, in their own order) -> providers / ledger / outbox -> db.
RANK = {
    "config": 0,
    "errors": 0,
    "money": 0,
    "logs": 0,
    "crypto": 0,
    "untrusted": 0,  # reads what people send: JSON bounded, text without control characters
    "images": 0,  # pictures people upload: proved by decoding, re-encoded
    "caches": 0,  # pages kept a moment per app (the Runtime owns them)
    "db": 1,
    "providers": 1,  # the public plugin API: DTOs, Protocols, the kinds, the manifest
    "tenancy": 2,
    "hookspecs": 2,
    "migrate": 2,
    "tenants": 3,
    "ledger": 3,
    "datakeys": 3,
    "hookdocs": 3,
    "plugins": 4,  # the platform's side: loader, registry, settings, the facade
    "outbox": 5,
    "webhooks": 5,
    "analytics": 5,  # counts visits; asks nothing above the tenant wall
    "accounts": 6,
    "booking": 7,
    "branding": 7,  # the clinic's look: colours, tagline, logo
    "identity": 7,  # staff sign-in through the clinic's OpenID provider
    "consents": 7,  # asked by intake, notifications and campaigns before they act
    "payments": 8,
    "video": 8,
    "intake": 8,
    "desk": 8,  # the front desk: patients' records, booking for them through booking
    "notifications": 9,
    "privacy": 9,
    "models": 10,
    "wiring": 10,
    "clinics": 10,  # whole clinics for operators: onboarding, suspension, usage, the directory
    "runtime": 11,
    "worker": 12,
    "sandbox": 12,
    "web": 12,
    "demo": 13,
    "app": 14,
    "testing": 15,  # the plugin authors' kit builds the whole app
    "cli": 15,
}


def unit_of(name: str) -> str | None:
    """The unit a module belongs to: core.<x>, tenants, or plugins.<name>."""
    parts = name.split(".")
    if parts[0] != "praxis" or len(parts) < 2:
        return None
    if parts[1] == "core" and len(parts) >= 3:
        return parts[2]
    if parts[1] == "tenants":
        return "tenants"
    if parts[1] == "plugins" and len(parts) >= 3:
        return f"plugin:{parts[2]}"
    return None


def unit_graph() -> dict[str, dict[str, list[str]]]:
    """For each unit, the units it imports, each with where."""
    graph: dict[str, dict[str, list[str]]] = {}
    for folder in ("core", "tenants", "plugins"):
        for path in modules(folder):
            own = unit_of(module_name(path))
            if own is None:
                continue
            edges = graph.setdefault(own, {})
            for line, name in imports(path):
                other = unit_of(name)
                if other is not None and other != own:
                    edges.setdefault(other, []).append(f"{path.relative_to(ROOT)}:{line}")
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Strongly connected groups of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(unit: str) -> None:
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        for other in graph.get(unit, {}):
            if other not in index:
                visit(other)
                low[unit] = min(low[unit], low[other])
            elif other in stack:
                low[unit] = min(low[unit], index[other])
        if low[unit] == index[unit]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == unit:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for unit in sorted(graph):
        if unit not in index:
            visit(unit)
    return found


def test_every_unit_has_its_place() -> None:
    kernel = {unit for unit in unit_graph() if not unit.startswith("plugin:")}
    assert kernel - set(RANK) == set(), "give each new core package or module a RANK"
    assert {"tenancy", "ledger", "outbox", "webhooks", "booking", "notifications"} <= kernel


def test_the_units_form_no_cycle() -> None:
    assert cycles(unit_graph()) == []


def test_each_unit_imports_only_lower_units() -> None:
    upward = []
    for unit, edges in unit_graph().items():
        if unit.startswith("plugin:"):
            continue  # plugins have a stricter rule of their own, below
        for other, places in edges.items():
            if other.startswith("plugin:") or RANK[other] >= RANK[unit]:
                upward.append(f"{unit} -> {other} ({places[0]})")
    assert upward == []


def test_web_pages_query_nothing_themselves() -> None:
    """Pages go through services: the web layer builds no SQL (session types aside)."""
    found = [
        problem
        for problem in violations("core/web", ("sqlalchemy",))
        if "sqlalchemy.ext.asyncio" not in problem
    ]
    assert found == []


def test_the_cycle_check_would_find_one() -> None:
    graph = {"booking": {"video": ["a"]}, "video": {"booking": ["b"]}, "db": {}}
    assert cycles(graph) == [["booking", "video"]]


def test_the_public_plugin_api_exposes_no_internals() -> None:
    assert (
        violations("core/hookspecs.py", ("praxis.core.db", "sqlalchemy", "praxis.core.web")) == []
    )


def test_nothing_uses_base_http_middleware() -> None:
    found = []
    for folder in ("core", "tenants", "plugins", "bench", "tests"):
        for path in modules(folder):
            text = path.read_text(encoding="utf-8")
            for line, name in imports(path):
                if name.endswith("BaseHTTPMiddleware") or within(name, "starlette.middleware.base"):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
            if path != Path(__file__) and "BaseHTTPMiddleware" in text:
                found.append(f"{path.relative_to(ROOT)} mentions BaseHTTPMiddleware")
    assert found == []


def test_the_public_provider_modules_import_nothing_of_the_platform() -> None:
    """What plugins import must not drag in sessions, models or the web layer."""
    found = []
    for name in PUBLIC_PROVIDER_MODULES:
        path = ROOT / "core" / "providers" / f"{name}.py"
        for line, imported in imports(path):
            first = imported.split(".")[0]
            if (
                first in {"sqlalchemy", "starlette"}
                or within(imported, "praxis.tenants")
                or (
                    within(imported, "praxis.core")
                    and not any(
                        within(imported, api)
                        for api in (*PLUGIN_API, "praxis.core.providers.manifest")
                    )
                )
            ):
                found.append(f"core/providers/{name}.py:{line} imports {imported}")
    assert found == []
