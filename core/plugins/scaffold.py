"""``praxis plugins new KIND NAME``: a new plugin package, ready to install and to test.

The package is written from the templates in ``scaffold_templates/`` (package data: the files
common to every kind, then the kind's own): a pyproject with the ``praxis`` entry point, the
two hooks with a manifest that declares what each of the kind's operations sends (derived
from the kind's own description, so it fits this platform's plugin API), a settings model, a
provider implementing every method of the kind's Protocol against a fake of the service (the
TODOs say what to change for the real one), that fake, tests using ``praxis.core.testing``,
and a README. The generated tests pass as they are: change the provider and the fake
together, and keep them passing.
"""

from __future__ import annotations

import difflib
import re
import textwrap
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import ValidationError

from praxis.core.providers.common import PLUGIN_API, Kind, Operation
from praxis.core.providers.kinds import KINDS
from praxis.core.providers.manifest import PluginManifest

TEMPLATES = "scaffold_templates"
SUFFIX = ".txt"  # shipped as package data (pyproject.toml); never run or linted as code
PACKAGE_DIR = "package"  # in the templates: becomes the plugin's import package
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_KINDS: dict[str, Kind] = {str(name): kind for name, kind in KINDS.items()}
_ACRONYMS = {"sms": "SMS", "fhir": "FHIR", "api": "API", "uk": "UK", "nhs": "NHS"}  # in titles
# The README's "Try it by hand", per kind: what the fake is told (where its webhooks go), the
# settings that point the demo clinic at it, and what to do then. Questionnaires have no fake.
_TRY_IT: dict[str, tuple[str | None, str, str]] = {
    "video": (
        " {webhook_url}",
        "api_key=sandbox-api-key-0123 webhook_secret=sandbox-webhook-secret",
        "Book a video consultation as `alex`: the room's link shows on the appointment from "
        "ten minutes before it starts, and opening it sends the fake's *joined* webhook.",
    ),
    "sms": (
        " {webhook_url}/inbound",
        "api_key=sandbox-api-key-0123 webhook_secret=sandbox-webhook-secret sender=+447700900100",
        "Book a consultation as `alex`: the confirmation text shows at "
        "http://127.0.0.1:8100/inbox/+447911123456, and the fake reports it delivered.",
    ),
    "email": (
        "",
        "api_key=sandbox-api-key-0123 from_address=appointments@demo.example",
        "Book a consultation as `alex`: the confirmation shows at http://127.0.0.1:8100/outbox.",
    ),
    "payments": (
        "",
        "secret_key=sandbox-secret-key-0123 webhook_secret=sandbox-webhook-secret",
        "As `admin`, connect the clinic's account on /admin/payments (the fake's page finishes "
        "it, and its webhook enables charges); then book a paid consultation as `alex` and "
        "pay on the fake's checkout page.",
    ),
    "questionnaires": (
        None,
        "",
        "As `admin`, edit the clinic's questionnaire; as `alex`, book a consultation and fill "
        "it in. Nothing leaves the platform, so nothing is added to the ledger.",
    ),
}


class ScaffoldError(ValueError):
    """What stops a scaffold, in a sentence saying what to do; nothing has been written."""


@dataclass(frozen=True)
class Scaffold:
    """A plugin package just written."""

    name: str  # the manifest's name and the entry point's
    kind: str
    root: Path  # the package's folder: pyproject.toml, README.md, the package, tests/
    files: tuple[Path, ...]  # relative to root


def new_plugin(kind: str, name: str, dest: Path) -> Scaffold:
    """Write a plugin package of ``kind`` named ``name`` into a new folder under ``dest``.

    Raises ScaffoldError for an unknown kind, a name the manifest would refuse, or a folder
    that already exists (it is never overwritten).
    """
    check_kind(kind)
    check_name(name)
    values = _values(kind, name)
    root = dest / values["distribution"]
    if root.exists():
        raise ScaffoldError(
            f"{root} already exists, and a scaffold never overwrites anything: remove it, "
            "or choose another NAME or --dest."
        )
    rendered = {path: _render(text, values) for path, text in _templates(kind, values).items()}
    for path, text in rendered.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return Scaffold(name, kind, root, tuple(sorted(rendered)))


def check_kind(kind: str) -> None:
    if kind in _KINDS:
        return
    choices = ", ".join(_KINDS)
    close = difflib.get_close_matches(kind, list(_KINDS), n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    raise ScaffoldError(f"There is no plugin kind {kind!r}.{hint} The kinds are: {choices}.")


def check_name(name: str) -> None:
    """The name the manifest requires: the manifest's own check decides, and says why."""
    try:
        PluginManifest(name=name, kind="email", title="-", version="0", requires=">=0")
    except ValidationError as exc:
        reason = str(exc.errors(include_input=False)[0]["msg"]).removeprefix("Value error, ")
        suggestion = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        if suggestion and suggestion[0].isdigit():
            suggestion = "plugin_" + suggestion
        hint = f", for example {suggestion}" if suggestion and suggestion != name else ""
        raise ScaffoldError(f"{name!r} cannot be a plugin name: {reason}{hint}.") from None


def _values(kind: str, name: str) -> dict[str, str]:
    words = name.split("_")
    major = int(PLUGIN_API.split(".")[0])
    return {
        "name": name,
        "kind": kind,
        "kind_words": _KINDS[kind].words,
        "package": f"praxis_{name}",
        "distribution": "praxis-" + name.replace("_", "-"),
        "camel": "".join(word.capitalize() for word in words),
        "title": " ".join(_ACRONYMS.get(word, word.capitalize()) for word in words),
        "api": PLUGIN_API,
        "requires": f">={PLUGIN_API},<{major + 1}",
        "manifest_data": _manifest_data(kind),
        "try_it": _try_it(kind, name),
        "tests_tree": _tests_tree(kind),
    }


def _try_it(kind: str, name: str) -> str:
    fake, settings, then = _TRY_IT[kind]
    choose = f"PRAXIS_ENV=development .venv/bin/praxis providers set --tenant demo {name}"
    if fake is None:
        commands = f"{choose}     # in the Praxis repository"
    else:
        webhook_url = f"http://demo.localhost:8000/-/plugins/{name}/webhook"
        serve = "python tests/fake_service.py 8100" + fake.format(webhook_url=webhook_url)
        commands = (
            f"{serve}     # in this package\n{choose} \\\n    {settings} \\\n"
            "    api_base_url=http://127.0.0.1:8100     # in the Praxis repository"
        )
        then += (
            " Every call that sends personal data is listed under *Account -> Who received my "
            "data* (as `alex`) and on `/admin/ledger` (as `admin`), naming your processor."
        )
    then += " A running server uses new settings within `TENANT_CACHE_TTL` seconds (a minute)."
    return f"```sh\n{commands}\n```\n\n{textwrap.fill(then, 92)}"


def _tests_tree(kind: str) -> str:
    if _TRY_IT[kind][0] is None:
        return "  conftest.py           the test kit's fixtures (there is no service to fake)"
    return (
        "  fake_service.py       a fake of the service, served on 127.0.0.1\n"
        "  conftest.py           fixtures: the fake, a clinic's settings, the kit's"
    )


def _manifest_data(kind: str) -> str:
    """The manifest's ``processor`` and ``data``: one DataUse per operation that sends."""
    sending = [op for op in _KINDS[kind].operations if op.sends]
    if not sending:
        return (
            "processor=None,  # runs on the platform: no personal data leaves it\n        data=(),"
        )
    uses = "".join(_data_use(op) for op in sending)
    return (
        "# TODO: the company that receives the data, as each clinic's privacy notice names it\n"
        "        processor=Processor(\n"
        '            legal_name="TODO Example Ltd",\n'
        '            country="GB",  # ISO 3166-1 alpha-2: where it processes the data\n'
        '            transfer_safeguard="TODO: e.g. processed in the UK only",\n'
        '            privacy_policy_url="https://example.com/privacy",\n'
        "        ),\n"
        "        # One DataUse per operation that sends personal data, with at least the\n"
        "        # categories the platform sends with it (docs/providers.md lists them).\n"
        f"        data=({uses}\n"
        "        ),"
    )


def _data_use(operation: Operation[object, object]) -> str:
    names = [f"DataCategory.{c.name}" for c in operation.sends]
    categories = ", ".join(names) + ("," if len(names) == 1 else "")
    return (
        "\n            DataUse(\n"
        f'                operation="{operation.name}",\n'
        f"                categories=({categories}),\n"
        "                # TODO: why the clinic sends it, in words its privacy notice can use\n"
        f'                purpose="{operation.description}",\n'
        '                legal_basis="contract",\n'
        "            ),"
    )


def _templates(kind: str, values: dict[str, str]) -> dict[Path, str]:
    """Every file to write, by its path in the new package: the common files, then the
    kind's own (a kind's file replaces a common one of the same path)."""
    base = resources.files("praxis.core.plugins").joinpath(TEMPLATES)
    found: dict[Path, str] = {}
    for layer in ("common", kind):
        for relative, template in _walk(base.joinpath(layer), Path()):
            parts = [values["package"] if p == PACKAGE_DIR else p for p in relative.parts]
            found[Path(*parts).with_suffix("")] = template.read_text(encoding="utf-8")
    return found


def _walk(folder: Traversable, relative: Path) -> list[tuple[Path, Traversable]]:
    files: list[tuple[Path, Traversable]] = []
    for item in folder.iterdir():
        if item.is_dir():
            files += _walk(item, relative / item.name)
        elif item.name.endswith(SUFFIX):
            files.append((relative / item.name, item))
    return files


def _render(template: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise RuntimeError(f"the scaffold's template names {{{{{key}}}}}, which is unknown")
        return values[key]

    return _PLACEHOLDER.sub(value, template)
