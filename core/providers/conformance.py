"""The conformance kit: the rules a plugin must keep, checkable before it ships.

``static_problems(manifest, factory)`` needs nothing but the plugin: the platform runs it when
it loads plugins and disables one that breaks a rule (naming the rule). ``problems(manifest,
factory, settings, http=...)`` also builds the provider with example settings, as the
platform would for a clinic. Each returns one sentence per rule broken; empty when it
conforms. ``praxis plugins check`` runs both; ``praxis.core.testing`` adds behavioural checks.
An optional operation (since 1.2) may be left out; one that is there must take its request
as the platform calls it (``offered`` names those a provider has).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from praxis.core.providers.common import (
    PLUGIN_API,
    Kind,
    Operation,
    ProviderContext,
    ProviderFactory,
)
from praxis.core.providers.kinds import KINDS
from praxis.core.providers.manifest import PluginManifest

PROTOCOLS: dict[str, type] = {name: kind.protocol for name, kind in KINDS.items()}


def _members(protocol: type) -> list[str]:
    return sorted(
        name
        for name in vars(protocol)
        if not name.startswith("_") and name not in ("register", "mro")
    )


def offered(kind: Kind, provider: object) -> list[str]:
    """The optional operations of ``kind`` that ``provider`` (a class or an instance) has."""
    return [op.name for op in kind.optional if callable(getattr(provider, op.name, None))]


def _signature_problem(holder: object, operation: Operation[Any, Any]) -> str | None:
    """Why the platform could not call ``holder``'s optional method as it calls it, if so."""
    method = getattr(holder, operation.name)
    if not inspect.iscoroutinefunction(method):
        return "it must be an async method"
    try:
        params = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return None  # a callable whose signature cannot be read: trust it
    if isinstance(holder, type) and inspect.isfunction(
        inspect.getattr_static(holder, operation.name)
    ):
        params = params[1:]  # self
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [
        p
        for p in params
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if not positional or len(required) > 1:
        return f"it must take one argument, the {operation.request.__name__}"
    try:
        hints = typing.get_type_hints(method)
    except (NameError, TypeError):  # names its module cannot resolve: left unchecked
        return None
    given = hints.get(positional[0].name, operation.request)
    if given is not operation.request:
        return f"it takes a {getattr(given, '__name__', given)}, not a {_name(operation.request)}"
    expected = type(None) if operation.result is None else operation.result
    if hints.get("return", expected) is not expected:
        return f"it must return {_name(operation.result)}"
    return None


def _name(dto: type | None) -> str:
    return "None" if dto is None else dto.__name__


def _optional_problems(name: str, kind: Kind, holder: object) -> list[str]:
    found = []
    for operation in kind.optional:
        if operation.name not in offered(kind, holder):
            continue  # left out: the platform skips it
        why = _signature_problem(holder, operation)
        if why:
            wanted = (
                f"async def {operation.name}(self, request: {_name(operation.request)}) "
                f"-> {_name(operation.result)}"
            )
            found.append(f"{name}: its optional {operation.name} is not `{wanted}` ({why})")
    return found


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
        found += _optional_problems(manifest.name, kind, factory)
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
    if not isinstance(factory, type):  # a class was checked above, before it was built
        found += _optional_problems(manifest.name, KINDS[manifest.kind], provider)
    return found
