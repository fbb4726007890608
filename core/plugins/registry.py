"""Which provider serves a tenant for each kind, built from the tenant's own settings."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.config import Settings
from praxis.core.errors import ProviderNotReady
from praxis.core.plugins.loader import Plugins
from praxis.core.plugins.settings import SettingsStore
from praxis.core.providers.common import ProviderContext
from praxis.core.providers.kinds import KINDS
from praxis.core.providers.manifest import NamesProcessor, PluginKind, PluginManifest
from praxis.core.providers.network import OutboundPolicy
from praxis.tenants.directory import TenantInfo

log = structlog.get_logger("praxis.plugins")
KIND_WORDS = {name: kind.words for name, kind in KINDS.items()}
_CACHED = 1024


@dataclass(frozen=True)
class Built:
    manifest: PluginManifest
    provider: Any


def webhook_url(settings: Settings, tenant: TenantInfo, plugin: str) -> str:
    return f"{settings.site_url(tenant.slug)}/-/plugins/{plugin}/webhook"


class Registry:
    """Builds providers on demand; an instance is reused until its settings change.

    Whether they changed is checked at most every TENANT_CACHE_TTL seconds (a settings read
    per webhook or message would be most of its cost); a change made in this process is seen
    at once (``forget``), one made elsewhere within that time.
    """

    def __init__(
        self,
        plugins: Plugins,
        store: SettingsStore,
        http: httpx.AsyncClient,
        settings: Settings,
        network: OutboundPolicy | None = None,
    ) -> None:
        self.network = network or OutboundPolicy()
        self.plugins = plugins
        self.store = store
        self.http = http
        self.settings = settings
        self._built: OrderedDict[tuple[uuid.UUID, str, int], Built] = OrderedDict()
        self._checked: dict[tuple[uuid.UUID, str], tuple[float, Built]] = {}

    def forget(self, tenant_id: uuid.UUID) -> None:
        """This process changed the tenant's settings: check them on next use."""
        for key in [k for k in self._checked if k[0] == tenant_id]:
            del self._checked[key]

    def forget_all(self) -> None:
        """Build every provider anew on next use (tests restoring a database, a reload)."""
        self._built.clear()
        self._checked.clear()

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
            if tenant.providers.get(kind) in self.plugins.disabled:
                raise ProviderNotReady(
                    f"{KIND_WORDS[kind].capitalize()} at {tenant.name} is not available "
                    "right now. Please contact the clinic."
                )
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
        recent = self._checked.get((tenant.id, manifest.name))
        if (
            recent is not None
            and time.monotonic() - recent[0] < self.settings.tenant_cache_ttl_seconds
        ):
            return recent[1]
        built = await self._load(db, tenant, manifest)
        if len(self._checked) >= _CACHED:
            self._checked.clear()
        self._checked[(tenant.id, manifest.name)] = (time.monotonic(), built)
        return built

    async def _load(self, db: AsyncSession, tenant: TenantInfo, manifest: PluginManifest) -> Built:
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
            network=self.network,
        )
        protocol = KINDS[kind].protocol
        try:
            provider = self.plugins.factories[manifest.name](context)
        except Exception as exc:  # third-party code: its failure is its own, named
            log.error("plugin_build_failed", plugin=manifest.name, error=type(exc).__name__)
            provider = None
        if provider is None or not isinstance(provider, protocol):
            log.error("plugin_unusable", plugin=manifest.name, protocol=protocol.__name__)
            raise ProviderNotReady(
                f"{KIND_WORDS[kind].capitalize()} at {tenant.name} is not working right now "
                f"(the {manifest.title} plugin could not be started). Please contact the clinic."
            )
        if isinstance(settings, NamesProcessor):  # the clinic's own processor, by name
            manifest = manifest.model_copy(update={"processor": settings.processor()})
        built = Built(manifest, provider)
        self._built[key] = built
        while len(self._built) > _CACHED:
            self._built.popitem(last=False)
        return built
