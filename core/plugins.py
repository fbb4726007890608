"""The plugin manager: entry-point group ``praxis``, built-ins registered the same way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pluggy

from core import hookspecs
from core.manifest import PluginManifest

ENTRY_POINT_GROUP = "praxis"


class PluginError(RuntimeError):
    """A plugin cannot be loaded; the message names it and says what to fix."""


@dataclass(frozen=True)
class Plugins:
    manager: pluggy.PluginManager
    manifests: dict[str, PluginManifest]

    def of_kind(self, kind: str) -> list[PluginManifest]:
        return [m for m in self.manifests.values() if m.kind == kind]


def load_plugins(*, extra: Iterable[object] = (), entry_points: bool = True) -> Plugins:
    """Discover, register and check every plugin; fail loudly on a misspelt hook."""
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    if entry_points:
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra:
        manager.register(plugin)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(
            f"plugin {exc.plugin!r}: {exc}. Check the hook's spelling against docs/hooks.md."
        ) from None
    return Plugins(manager, _manifests(manager))


def _manifests(manager: pluggy.PluginManager) -> dict[str, PluginManifest]:
    manifests: dict[str, PluginManifest] = {}
    declared = set()
    for impl in manager.hook.praxis_manifest.get_hookimpls():
        manifest = impl.function()
        if not isinstance(manifest, PluginManifest):
            raise PluginError(
                f"plugin {impl.plugin_name}: praxis_manifest must return a PluginManifest"
            )
        if manifest.name in manifests:
            raise PluginError(f"plugin {impl.plugin_name}: the name {manifest.name!r} is taken")
        manifests[manifest.name] = manifest
        declared.add(impl.plugin_name)
    for name, _plugin in manager.list_name_plugin():
        if name not in declared:
            raise PluginError(f"plugin {name}: it implements no praxis_manifest hook")
    return dict(sorted(manifests.items()))
