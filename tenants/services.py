"""Onboarding and platform-level management of tenants (operator actions)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.db import utcnow
from praxis.tenants.models import Tenant, TenantDomain
from praxis.tenants.schema import TenantSpec
from praxis.tenants.verification import new_proof

Outcome = Literal["created", "updated", "unchanged"]


class TenantConflict(ValueError):
    """The slug or a domain is already taken; the message says which."""


def _columns(spec: TenantSpec) -> dict[str, Any]:
    return {
        "slug": spec.slug,
        "name": spec.name,
        "timezone": spec.timezone,
        "locale": spec.locale,
        "branding": spec.branding.model_dump(mode="json"),
        "controller": spec.controller.model_dump(mode="json"),
        "booking": spec.booking.model_dump(mode="json"),
        "retention": spec.retention.model_dump(mode="json"),
        "providers": dict(spec.providers),
    }


async def save_tenant(
    db: AsyncSession, spec: TenantSpec, *, platform_domain: str, update: bool = False
) -> tuple[Tenant, Outcome]:
    """Create the tenant, or with ``update`` bring an existing one in line with the spec."""
    for domain in spec.domains:
        if domain == platform_domain or domain.endswith("." + platform_domain):
            raise TenantConflict(
                f"domains: {domain} is under the platform domain; "
                f"{spec.slug}.{platform_domain} already serves this tenant"
            )
    tenant = await db.scalar(select(Tenant).where(Tenant.slug == spec.slug))
    if tenant is not None and not update:
        raise TenantConflict(f"slug: a tenant called {spec.slug!r} already exists")
    columns = _columns(spec)
    outcome: Outcome
    if tenant is None:
        tenant = Tenant(id=uuid.uuid4(), **columns)
        db.add(tenant)
        outcome = "created"
    else:
        changed = {k: v for k, v in columns.items() if getattr(tenant, k) != v}
        for key, value in changed.items():
            setattr(tenant, key, value)
        outcome = "updated" if changed else "unchanged"
    if await _sync_domains(db, tenant.id, spec.domains) and outcome == "unchanged":
        outcome = "updated"
    await db.commit()
    return tenant, outcome


async def _sync_domains(db: AsyncSession, tenant_id: uuid.UUID, wanted: list[str]) -> bool:
    rows = (await db.scalars(select(TenantDomain).where(TenantDomain.domain.in_(wanted)))).all()
    taken = [row.domain for row in rows if row.tenant_id != tenant_id]
    if taken:
        raise TenantConflict(f"domains: {', '.join(taken)} already belongs to another tenant")
    mine = (await db.scalars(select(TenantDomain).where(TenantDomain.tenant_id == tenant_id))).all()
    have = {row.domain for row in mine}
    changed = False
    for row in mine:
        if row.domain not in wanted:
            await db.delete(row)
            changed = True
    for domain in wanted:
        if domain not in have:
            db.add(TenantDomain(domain=domain, tenant_id=tenant_id, proof=new_proof()))
            changed = True
    return changed


async def list_tenants(db: AsyncSession) -> list[Tenant]:
    return list((await db.scalars(select(Tenant).order_by(Tenant.slug))).all())


async def tenant_by_id(db: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    return await db.get(Tenant, tenant_id)


async def tenant_by_slug(db: AsyncSession, slug: str) -> Tenant | None:
    return await db.scalar(select(Tenant).where(Tenant.slug == slug))


async def domains_of(db: AsyncSession, tenant_id: uuid.UUID) -> list[TenantDomain]:
    query = select(TenantDomain).where(TenantDomain.tenant_id == tenant_id)
    return list((await db.scalars(query.order_by(TenantDomain.domain))).all())


async def set_domain_verified(
    db: AsyncSession, tenant_id: uuid.UUID, domain: str, *, verified: bool
) -> bool:
    """Mark a custom domain verified (it starts serving) or not; False if it is not the tenant's."""
    row = await db.get(TenantDomain, domain)
    if row is None or row.tenant_id != tenant_id:
        return False
    row.verified_at = utcnow() if verified else None
    await db.commit()
    return True


async def domain_of(db: AsyncSession, tenant_id: uuid.UUID, domain: str) -> TenantDomain | None:
    """The custom domain, if it is this tenant's."""
    row = await db.get(TenantDomain, domain)
    return row if row is not None and row.tenant_id == tenant_id else None


async def set_suspended(db: AsyncSession, tenant_id: uuid.UUID, *, suspended: bool) -> bool:
    """Suspend (the portal closes for now, nothing is deleted) or resume an active clinic;
    False if there is no such clinic or it has been purged."""
    tenant = await db.get(Tenant, tenant_id, with_for_update=True)
    if tenant is None or tenant.status not in ("active", "suspended"):
        return False
    tenant.status = "suspended" if suspended else "active"
    await db.commit()
    return True


async def suspended_ids(db: AsyncSession) -> list[uuid.UUID]:
    return list((await db.scalars(select(Tenant.id).where(Tenant.status == "suspended"))).all())


async def set_listing(db: AsyncSession, tenant_id: uuid.UUID, *, listed: bool, town: str) -> None:
    """The clinic's own choice: listed in the public directory (or not), under this town."""
    tenant = await db.get(Tenant, tenant_id)
    if tenant is None:
        raise TenantConflict("the tenant no longer exists")
    tenant.listed, tenant.town = listed, town
    await db.commit()


def _listed() -> Select[Tenant]:
    return select(Tenant).where(
        Tenant.listed.is_(True), Tenant.status == "active", Tenant.leaves_on.is_(None)
    )


async def listed_tenant(db: AsyncSession, slug: str) -> Tenant | None:
    """The clinic of this slug if the directory may show it (as ``listed_tenants``)."""
    return await db.scalar(_listed().where(Tenant.slug == slug))


async def listed_tenants(db: AsyncSession) -> list[Tenant]:
    """Clinics that opted in to the public directory and are open: never a suspended one, nor
    one leaving the platform."""
    return list((await db.scalars(_listed().order_by(Tenant.name))).all())


async def choose_provider(
    db: AsyncSession, tenant_id: uuid.UUID, kind: str, plugin: str | None
) -> None:
    """The clinic picks (or, with None, stops using) a provider of one kind."""
    tenant = await db.get(Tenant, tenant_id)
    if tenant is None:
        raise TenantConflict("the tenant no longer exists")
    providers = dict(tenant.providers)
    if plugin:
        providers[kind] = plugin
    else:
        providers.pop(kind, None)
    tenant.providers = providers
    await db.commit()
