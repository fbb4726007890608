"""The conformance kit: the rules a plugin must keep, checkable before it ships.

``static_problems(manifest, factory)`` needs nothing but the plugin: the platform runs it when
it loads plugins and disables one that breaks a rule (naming the rule). ``problems(manifest,
factory, settings, http=...)`` also builds the provider with example settings, as the
platform would for a clinic. Each returns one sentence per rule broken; empty when it
conforms. ``praxis plugins check`` runs both; ``praxis.core.testing`` adds behavioural checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from praxis.core.providers.common import PLUGIN_API, ProviderContext, ProviderFactory
from praxis.core.providers.kinds import KINDS
from praxis.core.providers.manifest import PluginManifest

PROTOCOLS: dict[str, type] = {name: kind.protocol for name, kind in KINDS.items()}


def _members(protocol: type) -> list[str]:
    return sorted(
        name
        for name in vars(protocol)
        if not name.startswith("_") and name not in ("register", "mro")
    )


def static_problems(manifest: PluginManifest, factory: ProviderFactory | None) -> list[str]:
    """Every rule the plugin breaks that can be seen without building it."""
    found: list[str] = []
    if not manifest.fits():
        found.append(
            f"{manifest.name} requires plugin API {manifest.requires}, but this platform "
            f"offers {PLUGIN_API}"
        )
    if factory is None:
        found.append(f"{manifest.name} registers no provider (implement praxis_register_providers)")
    kind = KINDS[manifest.kind]
    sending = [op for op in kind.operations if op.sends]
    if manifest.processor is None and sending:
        found.append(f"{manifest.name} sends data to a third party but names no processor")
    declared = {use.operation: set(use.categories) for use in manifest.data}
    for operation in sending:
        missing = set(operation.sends) - declared.get(operation.name, set())
        if missing:
            names = ", ".join(sorted(c.value for c in missing))
            found.append(
                f"{manifest.name}: the manifest must declare {names} for {operation.name} "
                "(the platform sends them, and the privacy notice is made from the manifest)"
            )
    if isinstance(factory, type):
        absent = [name for name in _members(kind.protocol) if not hasattr(factory, name)]
        if absent:
            found.append(
                f"{manifest.name}: its provider does not implement {kind.protocol.__name__} "
                f"(missing: {', '.join(absent)})"
            )
    return found


def problems(
    manifest: PluginManifest,
    factory: ProviderFactory | None,
    settings: Mapping[str, Any],
    *,
    http: httpx.AsyncClient,
) -> list[str]:
    """Every rule the plugin breaks, building it with ``settings`` as a clinic would."""
    found = static_problems(manifest, factory)
    if factory is None:
        return found
    try:
        validated = manifest.settings_model.model_validate(dict(settings))
    except ValidationError as exc:
        return [*found, f"{manifest.name}: the example settings are not valid: {exc}"]
    context = ProviderContext(
        settings=validated,
        http=http,
        tenant_slug="conformance",
        tenant_name="Conformance Clinic",
        public_url="https://conformance.praxis.example",
        webhook_url=f"https://conformance.praxis.example/-/plugins/{manifest.name}/webhook",
    )
    provider = factory(context)
    protocol = PROTOCOLS[manifest.kind]
    if not isinstance(provider, protocol):
        wanted = [n for n in _members(protocol) if not hasattr(provider, n)]
        problem = (
            f"{manifest.name}: its provider does not implement {protocol.__name__} "
            f"(missing: {', '.join(wanted) or 'see docs/plugins.md'})"
        )
        if problem not in found:
            found.append(problem)
    return found
