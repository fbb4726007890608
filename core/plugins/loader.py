"""The plugin manager: entry-point group ``praxis``, built-ins registered the same way."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

import pluggy
from pydantic import ValidationError

from praxis.core import hookspecs
from praxis.core.hookdocs import hook_names
from praxis.core.providers.common import ProviderFactory
from praxis.core.providers.manifest import PluginManifest

ENTRY_POINT_GROUP = "praxis"
_HOOK_PREFIX = "praxis_"


class PluginError(RuntimeError):
    """A plugin cannot be loaded; the message names it and says what to fix."""


@dataclass(frozen=True)
class Plugins:
    manager: pluggy.PluginManager
    manifests: dict[str, PluginManifest]
    factories: dict[str, ProviderFactory]  # by manifest name; plugins without one are listed only

    def of_kind(self, kind: str) -> list[PluginManifest]:
        return [m for m in self.manifests.values() if m.kind == kind]

    def usable(self, kind: str) -> list[PluginManifest]:
        """Plugins of this kind that a tenant can choose: they register a provider."""
        return [m for m in self.of_kind(kind) if m.name in self.factories]


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def load_plugins(*, extra: Iterable[object] = (), entry_points: bool = True) -> Plugins:
    """Discover, register and check every plugin; fail loudly on a misspelt hook."""
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    if entry_points:
        for entry_point in _entry_points():
            _register(manager, _load(entry_point), entry_point.name)
    for plugin in extra:
        _register(manager, plugin, manager.get_canonical_name(plugin))
    try:
        manager.check_pending()  # catches @hookimpl(specname=...) naming no hook
    except pluggy.PluginValidationError as exc:
        name = manager.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(
            f"plugin {name}: {exc}. Check the hook's spelling against docs/hooks.md."
        ) from None
    by_plugin = _manifests(manager)
    manifests = dict(sorted((m.name, m) for m in by_plugin.values()))
    return Plugins(manager, manifests, _factories(manager, by_plugin))


def _load(entry_point: EntryPoint) -> object:
    try:
        return entry_point.load()
    except Exception as exc:  # any import-time failure of third-party code
        raise PluginError(
            f"plugin {entry_point.name} ({entry_point.value}): cannot be loaded: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _register(manager: pluggy.PluginManager, plugin: object, name: str) -> None:
    if manager.is_registered(plugin):
        raise PluginError(f"plugin {name}: it is registered twice (once is enough)")
    if manager.has_plugin(name):
        raise PluginError(f"plugin {name}: another plugin is already registered by that name")
    _check_hook_names(plugin, name)
    try:
        manager.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {name}: {exc}".rstrip()) from None


def _check_hook_names(plugin: object, name: str) -> None:
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
            raise PluginError(
                f"plugin {name}: {attribute} is not a Praxis hook{hint}. "
                "Check the hook's spelling against docs/hooks.md."
            )
        if not hasattr(value, "praxis_impl"):
            raise PluginError(
                f"plugin {name}: {attribute} is not marked with @hookimpl, so it would never run"
            )


def _manifests(manager: pluggy.PluginManager) -> dict[str, PluginManifest]:
    """Each registered plugin's manifest, keyed by the plugin's registered name."""
    manifests: dict[str, PluginManifest] = {}
    names: set[str] = set()
    for impl in manager.hook.praxis_manifest.get_hookimpls():
        try:
            manifest = impl.function()
        except ValidationError as exc:
            raise PluginError(
                f"plugin {impl.plugin_name}: its manifest is not valid: {exc}"
            ) from None
        except Exception as exc:  # third-party code: name the plugin, keep the cause
            raise PluginError(
                f"plugin {impl.plugin_name}: praxis_manifest failed: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(manifest, PluginManifest):
            raise PluginError(
                f"plugin {impl.plugin_name}: praxis_manifest must return a PluginManifest"
            )
        if manifest.name in names:
            raise PluginError(f"plugin {impl.plugin_name}: the name {manifest.name!r} is taken")
        names.add(manifest.name)
        manifests[impl.plugin_name] = manifest
    for name, _plugin in manager.list_name_plugin():
        if name not in manifests:
            raise PluginError(f"plugin {name}: it implements no praxis_manifest hook")
    return manifests


def _factories(
    manager: pluggy.PluginManager, manifests: dict[str, PluginManifest]
) -> dict[str, ProviderFactory]:
    """What builds each plugin's provider, keyed by manifest name."""
    found: dict[str, ProviderFactory] = {}
    for impl in manager.hook.praxis_register_providers.get_hookimpls():
        name = manifests[impl.plugin_name].name
        try:
            factory = impl.function()
        except Exception as exc:  # third-party code: name the plugin, keep the cause
            raise PluginError(
                f"plugin {impl.plugin_name}: praxis_register_providers failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not callable(factory):
            raise PluginError(
                f"plugin {impl.plugin_name}: praxis_register_providers must return the "
                "provider class (or a callable taking a ProviderContext)"
            )
        found[name] = factory
    return found
