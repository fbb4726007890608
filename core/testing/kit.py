"""Loading one plugin and building its provider the way the platform does, for its tests."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from praxis.core.config import Settings, load_settings
from praxis.core.plugins import PluginError, load_plugins
from praxis.core.providers.common import ProviderContext, ProviderFactory
from praxis.core.providers.conformance import problems
from praxis.core.providers.manifest import PluginManifest

CLINIC_SLUG = "test-clinic"
CLINIC_URL = f"https://{CLINIC_SLUG}.praxis.example"


@dataclass(frozen=True)
class LoadedPlugin:
    manifest: PluginManifest
    factory: ProviderFactory


def settings_for_tests(tmp_path: Path, **env: Any) -> Settings:
    """Settings as the platform's own tests use them: SQLite under ``tmp_path``, a throwaway
    secret, no second factor, quick provider timeouts. ``env`` overrides any variable by its
    README name, e.g. ``PROVIDER_TIMEOUT_SECONDS=5``."""
    values: dict[str, Any] = {
        "PRAXIS_ENV": "test",
        "PRAXIS_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'praxis.db'}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "STAFF_MFA_REQUIRED": False,
        "LOG_LEVEL": "WARNING",
        "PROVIDER_TIMEOUT_SECONDS": 2,
        **env,
    }
    return load_settings(**values)


def load(plugin: object) -> LoadedPlugin:
    """Load ``plugin`` (a module or object with hooks) alone, with every check the platform
    makes at start-up; PluginError says what to fix. Works whether or not the plugin is also
    installed through its entry point."""
    loaded = load_plugins(extra=[plugin], entry_points=False, strict=True)
    [manifest] = loaded.manifests.values()
    return LoadedPlugin(manifest, loaded.factories[manifest.name])


def context(
    plugin: LoadedPlugin, settings: Mapping[str, Any], *, http: httpx.AsyncClient
) -> ProviderContext[Any]:
    """The ProviderContext a clinic's provider is built with, for a test clinic."""
    validated = plugin.manifest.settings_model.model_validate(dict(settings))
    return ProviderContext(
        settings=validated,
        http=http,
        tenant_slug=CLINIC_SLUG,
        tenant_name="Test Clinic",
        public_url=CLINIC_URL,
        webhook_url=f"{CLINIC_URL}/-/plugins/{plugin.manifest.name}/webhook",
    )


def provider(plugin: LoadedPlugin, settings: Mapping[str, Any], *, http: httpx.AsyncClient) -> Any:
    """The plugin's provider, built as the platform builds it; PluginError if it does not fit
    its kind's Protocol or the settings are not valid."""
    found = problems(plugin.manifest, plugin.factory, settings, http=http)
    if found:
        raise PluginError("; ".join(found))
    return plugin.factory(context(plugin, settings, http=http))


@asynccontextmanager
async def client(*, seconds: float = 5.0) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client like the platform's shared one (no redirects followed)."""
    async with httpx.AsyncClient(timeout=seconds, follow_redirects=False) as http:
        yield http


def app(settings: Settings, *plugins: object) -> Starlette:
    """The whole platform with these plugins beside the installed ones. A plugin already
    installed through its entry point is the same object, and is simply used."""
    from praxis.core.app import create_app

    return create_app(settings, extra_plugins=plugins, access_log=False)
