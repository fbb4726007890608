"""The plugin manager: entry-point group ``praxis``, built-ins registered the same way.

One bad plugin disables only itself. A package that cannot be imported, a misspelt hook, an
invalid manifest, a plugin API it does not fit, or a broken rule of the conformance kit:
each leaves that plugin out, with its name and the reason in the log, in ``praxis plugins
list``, on the operator's plugins page and beside the clinic admin's choices; the platform
and every other plugin start as usual. ``strict=True`` (the test kit, ``praxis plugins
check``) raises instead, with the same reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

import pluggy
import structlog
from pydantic import ValidationError

from praxis.core import hookspecs
from praxis.core.hookdocs import hook_names
from praxis.core.providers.common import ProviderFactory
from praxis.core.providers.conformance import static_problems
from praxis.core.providers.manifest import PluginManifest

ENTRY_POINT_GROUP = "praxis"
_HOOK_PREFIX = "praxis_"
log = structlog.get_logger("praxis.plugins")


class PluginError(RuntimeError):
    """A plugin cannot be used; the message names it and says what to fix."""


@dataclass(frozen=True)
class Disabled:
    """A plugin left out, and why (a sentence naming what to fix, never a traceback)."""

    name: str
    source: str  # the entry point's module, or the object's name
    reason: str
    kind: str = ""  # known once its manifest was read


@dataclass(frozen=True)
class Plugins:
    manager: pluggy.PluginManager
    manifests: dict[str, PluginManifest]  # usable plugins, by manifest name
    factories: dict[str, ProviderFactory]
    disabled: dict[str, Disabled] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[PluginManifest]:
        return [m for m in self.manifests.values() if m.kind == kind]

    def usable(self, kind: str) -> list[PluginManifest]:
        """Plugins of this kind that a tenant can choose: loaded, checked, with a provider."""
        return [m for m in self.of_kind(kind) if m.name in self.factories]

    def disabled_of(self, kind: str) -> list[Disabled]:
        return [d for d in self.disabled.values() if d.kind == kind]


class _Loading:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.manager.add_hookspecs(hookspecs)
        self.disabled: dict[str, Disabled] = {}

    def disable(self, name: str, source: str, reason: str, kind: str = "") -> None:
        if self.strict:
            raise PluginError(reason)
        plugin = self.manager.get_plugin(name)
        if plugin is not None:
            self.manager.unregister(plugin)
        self.disabled[name] = Disabled(name, source, reason, kind)
        log.warning("plugin_disabled", plugin=name, source=source, reason=reason)

    def add(self, plugin: object, name: str, source: str) -> None:
        if self.manager.is_registered(plugin):
            return  # installed and also passed in (a test of a pip-installed plugin): once
        problem = _registration_problem(self.manager, plugin, name)
        if problem is None:
            try:
                self.manager.register(plugin, name=name)
                self.manager.check_pending()  # catches @hookimpl(specname=...) naming no hook
            except pluggy.PluginValidationError as exc:
                if self.manager.is_registered(plugin):
                    self.manager.unregister(plugin)
                problem = f"plugin {name}: {exc}. Check the hook's spelling against docs/hooks.md."
        if problem is not None:
            self.disable(name, source, problem)


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def load_plugins(
    *, extra: Iterable[object] = (), entry_points: bool = True, strict: bool = False
) -> Plugins:
    """Discover, register and check every plugin; a bad one is disabled, not fatal."""
    loading = _Loading(strict)
    if entry_points:
        for entry_point in _entry_points():
            plugin = _load(loading, entry_point)
            if plugin is not None:
                loading.add(plugin, entry_point.name, entry_point.value)
    for plugin in extra:
        name = loading.manager.get_canonical_name(plugin)
        loading.add(plugin, name, getattr(plugin, "__name__", name))
    manifests = _manifests(loading)
    factories = _factories(loading, manifests)
    _check(loading, manifests, factories)
    usable = {p: m for p, m in manifests.items() if p not in loading.disabled}
    return Plugins(
        loading.manager,
        {m.name: m for m in sorted(usable.values(), key=lambda m: m.name)},
        {usable[p].name: f for p, f in factories.items() if p in usable},
        dict(sorted(loading.disabled.items())),
    )


def _load(loading: _Loading, entry_point: EntryPoint) -> object | None:
    try:
        plugin: object = entry_point.load()
        return plugin
    except Exception as exc:  # any import-time failure of third-party code disables it alone
        loading.disable(
            entry_point.name,
            entry_point.value,
            f"plugin {entry_point.name} ({entry_point.value}): cannot be loaded: "
            f"{type(exc).__name__}: {exc}",
        )
        return None


def _registration_problem(manager: pluggy.PluginManager, plugin: object, name: str) -> str | None:
    if manager.has_plugin(name):
        return f"plugin {name}: another plugin is already registered by that name"
    return _hook_name_problem(plugin, name)


def _hook_name_problem(plugin: object, name: str) -> str | None:
    """Every ``praxis_*`` attribute must be a known hook, marked with ``@hookimpl``."""
    known = hook_names()
    for attribute in dir(plugin):
        if not attribute.startswith(_HOOK_PREFIX):
            continue
        value = getattr(plugin, attribute, None)
        if not callable(value) or hasattr(value, "praxis_spec"):
            continue
        if attribute not in known:
            close = difflib.get_close_matches(attribute, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            return (
                f"plugin {name}: {attribute} is not a Praxis hook{hint}. "
                "Check the hook's spelling against docs/hooks.md."
            )
        if not hasattr(value, "praxis_impl"):
            return f"plugin {name}: {attribute} is not marked with @hookimpl, so it would never run"
    return None


def _manifests(loading: _Loading) -> dict[str, PluginManifest]:
    """Each registered plugin's manifest, keyed by the plugin's registered name."""
    manifests: dict[str, PluginManifest] = {}
    names: set[str] = set()
    for impl in loading.manager.hook.praxis_manifest.get_hookimpls():
        plugin = impl.plugin_name
        problem = None
        manifest: object = None
        try:
            manifest = impl.function()
        except ValidationError as exc:
            problem = f"plugin {plugin}: its manifest is not valid: {_sentences(exc)}"
        except Exception as exc:  # third-party code: name the plugin, keep the cause
            problem = f"plugin {plugin}: praxis_manifest failed: {type(exc).__name__}: {exc}"
        if manifest is not None and not isinstance(manifest, PluginManifest):
            problem = f"plugin {plugin}: praxis_manifest must return a PluginManifest"
        elif manifest is not None and manifest.name in names:
            problem = f"plugin {plugin}: the name {manifest.name!r} is taken"
        if problem is not None or not isinstance(manifest, PluginManifest):
            loading.disable(plugin, plugin, problem or f"plugin {plugin}: no manifest")
            continue
        names.add(manifest.name)
        manifests[plugin] = manifest
    for name, _plugin in loading.manager.list_name_plugin():
        if name not in manifests and name not in loading.disabled:
            loading.disable(name, name, f"plugin {name}: it implements no praxis_manifest hook")
    return manifests


def _sentences(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'manifest'}: "
        f"{str(error['msg']).removeprefix('Value error, ')}"
        for error in exc.errors(include_input=False, include_url=False)
    )


def _factories(
    loading: _Loading, manifests: dict[str, PluginManifest]
) -> dict[str, ProviderFactory]:
    """What builds each plugin's provider, keyed by the plugin's registered name."""
    found: dict[str, ProviderFactory] = {}
    for impl in loading.manager.hook.praxis_register_providers.get_hookimpls():
        plugin = impl.plugin_name
        manifest = manifests.get(plugin)
        if manifest is None:
            continue
        problem = None
        try:
            factory = impl.function()
        except Exception as exc:  # third-party code: name the plugin, keep the cause
            problem = (
                f"plugin {manifest.name}: praxis_register_providers failed: "
                f"{type(exc).__name__}: {exc}"
            )
        else:
            if callable(factory):
                found[plugin] = factory
            else:
                problem = (
                    f"plugin {manifest.name}: praxis_register_providers must return the "
                    "provider class (or a callable taking a ProviderContext)"
                )
        if problem is not None:
            loading.disable(plugin, plugin, problem, manifest.kind)
    return found


def _check(
    loading: _Loading,
    manifests: dict[str, PluginManifest],
    factories: dict[str, ProviderFactory],
) -> None:
    """The conformance kit's rules that need no settings: a plugin that breaks one is not
    offered to any clinic (it could never work, or would send undeclared data)."""
    for plugin, manifest in manifests.items():
        if plugin in loading.disabled:
            continue
        found = static_problems(manifest, factories.get(plugin))
        if found:
            loading.disable(plugin, plugin, "; ".join(found), manifest.kind)
