"""Which provider serves a tenant for each kind, built from the tenant's own settings."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.errors import ProviderNotReady
from core.manifest import PluginKind, PluginManifest
from core.plugins import PluginError, Plugins
from core.providers.common import ProviderContext
from core.providers.conformance import PROTOCOLS
from core.providers.settings import SettingsStore
from tenants.directory import TenantInfo

KIND_WORDS = {
    "video": "video consultations",
    "payments": "online payment",
    "sms": "text messages",
    "email": "email",
    "questionnaires": "intake questionnaires",
}
_CACHED = 1024


@dataclass(frozen=True)
class Built:
    manifest: PluginManifest
    provider: Any


def webhook_url(settings: Settings, tenant: TenantInfo, plugin: str) -> str:
    return f"{settings.site_url(tenant.slug)}/-/plugins/{plugin}/webhook"


class Registry:
    """Builds providers on demand; an instance is reused until its settings change."""

    def __init__(
        self, plugins: Plugins, store: SettingsStore, http: httpx.AsyncClient, settings: Settings
    ) -> None:
        self.plugins = plugins
        self.store = store
        self.http = http
        self.settings = settings
        self._built: OrderedDict[tuple[uuid.UUID, str, int], Built] = OrderedDict()

    def chosen(self, tenant: TenantInfo, kind: PluginKind) -> PluginManifest | None:
        """The plugin the tenant chose for this kind, if it is installed and usable."""
        name = tenant.providers.get(kind)
        manifest = self.plugins.manifests.get(name or "")
        if manifest is None or manifest.kind != kind or name not in self.plugins.factories:
            return None
        return manifest

    async def build(self, db: AsyncSession, tenant: TenantInfo, kind: PluginKind) -> Built:
        """The tenant's provider of ``kind``; ProviderNotReady says what is missing."""
        manifest = self.chosen(tenant, kind)
        if manifest is None:
            raise ProviderNotReady(f"{tenant.name} has not set up {KIND_WORDS[kind]}.")
        return await self._build(db, tenant, manifest)

    async def build_used(self, db: AsyncSession, tenant: TenantInfo, plugin: str) -> Built:
        """A plugin the tenant uses now or used before (its settings are kept): late webhooks
        from a provider the clinic has since switched away from still count, STOP above all."""
        manifest = self.plugins.manifests.get(plugin)
        if manifest is None or plugin not in self.plugins.factories:
            raise ProviderNotReady("There is no such provider here.")
        if (
            self.chosen(tenant, manifest.kind) is not manifest
            and await self.store.row(db, plugin) is None
        ):
            raise ProviderNotReady(f"{tenant.name} has never used {manifest.title}.")
        return await self._build(db, tenant, manifest)

    async def _build(self, db: AsyncSession, tenant: TenantInfo, manifest: PluginManifest) -> Built:
        kind = manifest.kind
        row = await self.store.row(db, manifest.name)
        key = (tenant.id, manifest.name, row.version if row else 0)
        found = self._built.get(key)
        if found is not None:
            self._built.move_to_end(key)
            return found
        try:
            settings = manifest.settings_model.model_validate(self.store.stored(row, tenant.id))
        except ValidationError:
            raise ProviderNotReady(
                f"The settings of {manifest.title} for {tenant.name} are incomplete."
            ) from None
        context = ProviderContext(
            settings=settings,
            http=self.http,
            tenant_slug=tenant.slug,
            tenant_name=tenant.name,
            public_url=self.settings.site_url(tenant.slug),
            webhook_url=webhook_url(self.settings, tenant, manifest.name),
        )
        provider = self.plugins.factories[manifest.name](context)
        if not isinstance(provider, PROTOCOLS[kind]):
            raise PluginError(
                f"plugin {manifest.name}: its provider does not implement "
                f"{PROTOCOLS[kind].__name__} (see docs/plugins.md)"
            )
        built = Built(manifest, provider)
        self._built[key] = built
        while len(self._built) > _CACHED:
            self._built.popitem(last=False)
        return built
