"""Host -> tenant resolution through an in-process cache.

A host is either the platform domain itself (operator pages), ``<slug>.<platform
domain>``, or a verified custom domain. Tenants change rarely, so answers are
cached for a short time; unknown hosts are cached apart, in a small bounded map,
so a flood of made-up hosts can never push real tenants out.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
import time
import uuid
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, TypeVar

from sqlalchemy import select

from praxis.core.tenancy import Database
from praxis.tenants.models import Tenant, TenantDomain
from praxis.tenants.schema import BookingPolicy, Branding, Controller, Retention

_Policy = TypeVar("_Policy", BookingPolicy, Retention)


@dataclass(frozen=True, slots=True)
class TenantInfo:
    """An immutable snapshot of what a request needs to know about its tenant."""

    id: uuid.UUID
    slug: str
    name: str
    timezone: str
    locale: str
    branding: Branding
    controller: Controller
    booking: BookingPolicy
    retention: Retention
    providers: dict[str, str]
    brand_version: str
    leaves_on: date | None = None  # the clinic is leaving: sign-in closes on this day (P29)
    count_visits: bool = False  # analytics cookies offered, and visits counted once accepted
    suspended: bool = False  # an operator closed the portal for now: nothing is deleted

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)  # ZoneInfo caches instances itself

    @classmethod
    def from_row(cls, row: Tenant) -> TenantInfo:
        branding = Branding.model_validate(row.branding)
        version_source = f"{branding.primary_colour}{branding.accent_colour}{row.name}"
        return cls(
            id=row.id,
            slug=row.slug,
            name=row.name,
            timezone=sys.intern(row.timezone),
            locale=sys.intern(row.locale),
            branding=branding,
            controller=Controller.model_validate(row.controller),
            booking=_shared(BookingPolicy, row.booking),
            retention=_shared(Retention, row.retention),
            providers=dict(row.providers),
            brand_version=hashlib.sha256(version_source.encode()).hexdigest()[:10],
            leaves_on=row.leaves_on,
            count_visits=bool(row.count_visits),
            suspended=row.status == "suspended",
        )


# Most tenants keep the default booking and retention policies: identical frozen models are
# shared between snapshots instead of held once per tenant (a bounded table, like the cache).
_SHARED_CAPACITY = 256
_shared_policies: OrderedDict[tuple[type, tuple[tuple[str, Any], ...]], Any] = OrderedDict()


def _shared(model: type[_Policy], data: dict[str, Any]) -> _Policy:
    try:
        key = (model, tuple(sorted(data.items())))
        hash(key)
    except TypeError:  # not flat: validate it on its own
        return model.model_validate(data)
    found: _Policy | None = _shared_policies.get(key)
    if found is None:
        found = model.model_validate(data)
        _shared_policies[key] = found
        while len(_shared_policies) > _SHARED_CAPACITY:
            _shared_policies.popitem(last=False)
    return found


class PlatformSite:
    """The platform domain itself: operator pages, no tenant."""


PLATFORM: Final = PlatformSite()
Site = TenantInfo | PlatformSite

# A suspended clinic still resolves, so its portal can say it is unavailable for now.
SERVED = ("active", "suspended")
_UNKNOWN_CAPACITY = 4096
_UNKNOWN_TTL = 5.0
_CONCURRENT_LOADS = 2


_PLAUSIBLE_HOST = re.compile(r"^[a-z0-9.-]{1,253}$")


def normalise_host(raw: str) -> str:
    host = raw.strip().lower()
    if host.startswith("["):  # IPv6 literal: never a tenant
        return host
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


class TenantDirectory:
    def __init__(
        self, database: Database, *, platform_domain: str, ttl: float, capacity: int
    ) -> None:
        self._db = database
        self._platform = platform_domain
        self._suffix = "." + platform_domain
        self._ttl = ttl
        self._capacity = capacity
        self._known: OrderedDict[str, tuple[float, TenantInfo]] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()
        self._loads: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def resolve(self, raw_host: str) -> Site | None:
        host = normalise_host(raw_host)
        if host == self._platform:
            return PLATFORM
        now = time.monotonic()
        hit = self._known.get(host)
        if hit is not None and hit[0] > now:
            self._known.move_to_end(host)
            return hit[1]
        miss_until = self._unknown.get(host)
        if miss_until is not None and miss_until > now:
            return None
        if not _PLAUSIBLE_HOST.match(host):  # junk never reaches the database or the cache
            return None
        async with self._load_slot():
            now = time.monotonic()
            known, tenant = self._cached(host, now)  # read by another request meanwhile?
            if known:
                return tenant
            tenant = await self._load(host)
        if tenant is None:
            self._remember_unknown(host, now)
        else:
            self._remember(host, tenant, now)
        return tenant

    def _cached(self, host: str, now: float) -> tuple[bool, TenantInfo | None]:
        """(True, answer) if the cache still knows this host, else (False, None)."""
        hit = self._known.get(host)
        if hit is not None and hit[0] > now:
            self._known.move_to_end(host)
            return True, hit[1]
        miss_until = self._unknown.get(host)
        if miss_until is not None and miss_until > now:
            return True, None
        return False, None

    def _load_slot(self) -> asyncio.Semaphore:
        """At most _CONCURRENT_LOADS reads at a time, so a cold start with many tenants
        never holds every pooled connection (one semaphore per event loop)."""
        loop = asyncio.get_running_loop()
        if self._loads is None or self._loads[0] is not loop:
            self._loads = (loop, asyncio.Semaphore(_CONCURRENT_LOADS))
        return self._loads[1]

    def forget_all(self) -> None:
        """Called after this process changed a tenant or a domain."""
        self._known.clear()
        self._unknown.clear()

    def __len__(self) -> int:
        return len(self._known)

    async def _load(self, host: str) -> TenantInfo | None:
        if host.endswith(self._suffix):
            slug = host[: -len(self._suffix)]
            if "." in slug:
                return None
            query = select(Tenant).where(Tenant.slug == slug, Tenant.status.in_(SERVED))
        else:
            query = (
                select(Tenant)
                .join(TenantDomain, TenantDomain.tenant_id == Tenant.id)
                .where(
                    TenantDomain.domain == host,
                    TenantDomain.verified_at.is_not(None),
                    Tenant.status.in_(SERVED),
                )
            )
        async with self._db.reading() as db:
            row = await db.scalar(query)
        return TenantInfo.from_row(row) if row is not None else None

    def _remember(self, host: str, tenant: TenantInfo, now: float) -> None:
        self._known[host] = (now + self._ttl, tenant)
        self._known.move_to_end(host)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    def _remember_unknown(self, host: str, now: float) -> None:
        self._unknown[host] = now + _UNKNOWN_TTL
        self._unknown.move_to_end(host)
        while len(self._unknown) > _UNKNOWN_CAPACITY:
            self._unknown.popitem(last=False)
