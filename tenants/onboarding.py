"""Read a clinic's onboarding TOML file into a validated TenantSpec."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from praxis.tenants.schema import TenantSpec, template_syntax_problems


class TenantFileError(ValueError):
    """The file cannot onboard a tenant; each problem names the file and the field."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


def read_tenant_file(path: Path) -> TenantSpec:
    try:
        raw = tomllib.loads(_read_text(path, path))
    except tomllib.TOMLDecodeError as exc:
        raise TenantFileError(path, [f"not valid TOML: {exc}"]) from None
    _load_template_overrides(path, raw)
    try:
        return TenantSpec.model_validate(raw)
    except ValidationError as exc:
        raise TenantFileError(path, [_describe(e) for e in exc.errors()]) from None


def _read_text(path: Path, tenant_file: Path, field: str = "") -> str:
    where = f"{field}: {path.name}: " if field else ""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TenantFileError(tenant_file, [f"{where}no such file"]) from None
    except IsADirectoryError:
        raise TenantFileError(tenant_file, [f"{where}is a folder, not a file"]) from None
    except UnicodeDecodeError:
        problem = f"{where}is not UTF-8 text; save it as UTF-8"
        raise TenantFileError(tenant_file, [problem]) from None
    except OSError as exc:
        raise TenantFileError(tenant_file, [f"{where}cannot be read ({exc.strerror})"]) from None


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required"
    elif error["type"] == "extra_forbidden":
        message = "is not a known setting (check its spelling)"
    return f"{where}: {message}"


def _load_template_overrides(path: Path, raw: dict[str, Any]) -> None:
    """`branding.templates_dir` names a folder beside the file; its templates are stored."""
    branding = raw.get("branding")
    if not isinstance(branding, dict) or "templates_dir" not in branding:
        return
    folder = (path.parent / str(branding.pop("templates_dir"))).resolve()
    if not folder.is_dir():
        raise TenantFileError(path, [f"branding.templates_dir: no folder at {folder}"])
    overrides = {
        file.relative_to(folder).as_posix(): _read_text(file, path, "branding.templates_dir")
        for file in sorted(folder.rglob("*.html"))
    }
    problems = template_syntax_problems(overrides)
    if problems:
        raise TenantFileError(path, [f"branding.templates_dir: {p}" for p in problems])
    branding["template_overrides"] = overrides
