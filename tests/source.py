"""The project's source read as text: its modules and what each imports (``ast``), for the
tests that hold the import arrows (tests/unit/test_layering.py) and plugins to the public API."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The public plugin API: the hooks and the whole providers package; the facade, registry and
# stored settings are the platform's own (praxis.core.plugins).
PLUGIN_API = ("praxis.core.hookspecs", "praxis.core.providers")
PUBLIC_PROVIDER_MODULES = sorted(
    path.stem for path in (ROOT / "core" / "providers").glob("*.py") if path.stem != "__init__"
)


def modules(folder: str) -> list[Path]:
    """The modules under ``folder``, or the one module ``folder`` names."""
    path = ROOT / folder
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if parts[0] in ("core", "tenants", "plugins", "migrations"):
        parts.insert(0, "praxis")  # installed under the praxis package (README, Packaging)
    return ".".join(parts)


def imports(path: Path, name: str | None = None) -> Iterator[tuple[int, str]]:
    """(line, module) for every import, relative ones resolved, `from x import y` as x.y too."""
    stat = path.stat()  # parsed once per version of a file: several tests read every module
    yield from _imports(str(path), stat.st_mtime_ns, stat.st_size, name)


@functools.lru_cache(maxsize=4096)
def _imports(where: str, _mtime: int, _size: int, name: str | None) -> tuple[tuple[int, str], ...]:
    return tuple(_read_imports(Path(where), name))


def _read_imports(path: Path, name: str | None) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = (name or module_name(path)).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            yield node.lineno, str(node.args[0].value)


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")
