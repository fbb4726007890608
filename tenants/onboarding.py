"""Read a clinic's onboarding TOML file into a validated TenantSpec."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import jinja2
from pydantic import ValidationError

from tenants.schema import TenantSpec


class TenantFileError(ValueError):
    """The file cannot onboard a tenant; each problem names the file and the field."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


def read_tenant_file(path: Path) -> TenantSpec:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TenantFileError(path, ["no such file"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise TenantFileError(path, [f"not valid TOML: {exc}"]) from None
    _load_template_overrides(path, raw)
    try:
        return TenantSpec.model_validate(raw)
    except ValidationError as exc:
        raise TenantFileError(path, [_describe(e) for e in exc.errors()]) from None


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
    overrides: dict[str, str] = {}
    problems: list[str] = []
    env = jinja2.Environment(autoescape=True)
    for file in sorted(folder.rglob("*.html")):
        name = file.relative_to(folder).as_posix()
        source = file.read_text(encoding="utf-8")
        try:
            env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(f"branding.templates_dir: {name} line {exc.lineno}: {exc.message}")
        overrides[name] = source
    if problems:
        raise TenantFileError(path, problems)
    branding["template_overrides"] = overrides
