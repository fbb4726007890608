"""tenants.directory: Host header -> tenant, through a bounded in-process cache."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from sqlalchemy import event, update

import praxis.tenants.directory as directory_module
from praxis.core.runtime import Runtime
from praxis.tenants.directory import PLATFORM, TenantDirectory, TenantInfo, normalise_host
from praxis.tenants.models import Tenant
from praxis.tenants.services import set_domain_verified
from tests.support import make_tenant, tenant_spec


def directory_for(rt: Runtime, *, ttl: float = 60.0, capacity: int = 100) -> TenantDirectory:
    return TenantDirectory(rt.database, platform_domain="localhost", ttl=ttl, capacity=capacity)


@contextmanager
def counting_queries(rt: Runtime) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = rt.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def set_status(rt: Runtime, tenant_id: uuid.UUID, status: str) -> None:
    async with rt.database.writing() as db:
        await db.execute(update(Tenant).where(Tenant.id == tenant_id).values(status=status))
        await db.commit()


# --- host names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("alpha.localhost", "alpha.localhost"),
        ("Alpha.LOCALHOST", "alpha.localhost"),
        ("alpha.localhost:8000", "alpha.localhost"),
        ("alpha.localhost.", "alpha.localhost"),
        ("alpha.localhost.:443", "alpha.localhost"),
        (" alpha.localhost ", "alpha.localhost"),
        ("[::1]:8000", "[::1]:8000"),
    ],
)
def test_normalise_host(raw: str, host: str) -> None:
    assert normalise_host(raw) == host


# --- resolving -------------------------------------------------------------------------------


async def test_a_subdomain_of_the_platform_is_its_tenant(rt: Runtime) -> None:
    alpha = await make_tenant(rt, "alpha")
    directory = directory_for(rt)
    for host in ("alpha.localhost", "ALPHA.LocalHost", "alpha.localhost:8000", "alpha.localhost."):
        found = await directory.resolve(host)
        assert isinstance(found, TenantInfo), host
        assert (found.id, found.slug, found.name) == (alpha.id, "alpha", "Alpha Clinic")


async def test_the_platform_domain_is_the_platform(rt: Runtime) -> None:
    directory = directory_for(rt)
    for host in ("localhost", "LOCALHOST", "localhost:8000", "localhost."):
        assert await directory.resolve(host) is PLATFORM


@pytest.mark.parametrize(
    "host",
    [
        "nobody.localhost",
        "x.alpha.localhost",
        "alpha.localhost.evil.example",
        "alpha",
        "",
        "[::1]:8000",
        "127.0.0.1:8000",
        "alphalocalhost",
    ],
)
async def test_other_hosts_are_nobody(rt: Runtime, host: str) -> None:
    await make_tenant(rt, "alpha")
    assert await directory_for(rt).resolve(host) is None


async def test_a_custom_domain_serves_only_once_verified(rt: Runtime) -> None:
    alpha = await make_tenant(rt, "alpha", domains=["book.alpha.example"])
    directory = directory_for(rt)
    assert await directory.resolve("book.alpha.example") is None
    async with rt.database.writing() as db:
        assert await set_domain_verified(db, alpha.id, "book.alpha.example", verified=True)
    directory.forget_all()
    found = await directory.resolve("Book.Alpha.Example:443")
    assert isinstance(found, TenantInfo) and found.id == alpha.id
    async with rt.database.writing() as db:
        await set_domain_verified(db, alpha.id, "book.alpha.example", verified=False)
    directory.forget_all()
    assert await directory.resolve("book.alpha.example") is None


async def test_another_tenants_domain_cannot_be_verified_for_you(rt: Runtime) -> None:
    await make_tenant(rt, "alpha", domains=["book.alpha.example"])
    beta = await make_tenant(rt, "beta")
    async with rt.database.writing() as db:
        assert not await set_domain_verified(db, beta.id, "book.alpha.example", verified=True)
    assert await directory_for(rt).resolve("book.alpha.example") is None


async def test_a_suspended_tenant_resolves_as_suspended(rt: Runtime) -> None:
    """Its portal then says it is unavailable for now (core/web/suspended.py), not 404."""
    alpha = await make_tenant(rt, "alpha", domains=["book.alpha.example"])
    async with rt.database.writing() as db:
        await set_domain_verified(db, alpha.id, "book.alpha.example", verified=True)
    await set_status(rt, alpha.id, "suspended")
    directory = directory_for(rt)
    for host in ("alpha.localhost", "book.alpha.example"):
        found = await directory.resolve(host)
        assert isinstance(found, TenantInfo) and found.suspended, host
    await set_status(rt, alpha.id, "active")
    directory.forget_all()
    found = await directory.resolve("alpha.localhost")
    assert isinstance(found, TenantInfo) and not found.suspended


async def test_a_purged_tenant_is_not_served(rt: Runtime) -> None:
    alpha = await make_tenant(rt, "alpha", domains=["book.alpha.example"])
    async with rt.database.writing() as db:
        await set_domain_verified(db, alpha.id, "book.alpha.example", verified=True)
    await set_status(rt, alpha.id, "purged")
    directory = directory_for(rt)
    assert await directory.resolve("alpha.localhost") is None
    assert await directory.resolve("book.alpha.example") is None
    await set_status(rt, alpha.id, "active")
    directory.forget_all()
    assert isinstance(await directory.resolve("alpha.localhost"), TenantInfo)


async def test_a_tenant_added_after_a_miss_is_found_once_the_cache_is_cleared(rt: Runtime) -> None:
    directory = directory_for(rt)
    assert await directory.resolve("gamma.localhost") is None
    await make_tenant(rt, "gamma")
    directory.forget_all()
    assert isinstance(await directory.resolve("gamma.localhost"), TenantInfo)


async def test_the_snapshot_carries_the_tenants_settings(rt: Runtime) -> None:
    await make_tenant(
        rt, "alpha", branding={"primary_colour": "#123456"}, booking={"horizon_days": 30}
    )
    found = await directory_for(rt).resolve("alpha.localhost")
    assert isinstance(found, TenantInfo)
    assert found.branding.primary_colour == "#123456"
    assert found.booking.horizon_days == 30
    assert found.zone.key == "Europe/London"
    assert found.controller.ico_registration == "ZA123456"
    assert len(found.brand_version) == 10


# --- the cache -------------------------------------------------------------------------------


async def test_a_cache_hit_avoids_the_database(rt: Runtime) -> None:
    await make_tenant(rt, "alpha")
    directory = directory_for(rt)
    with counting_queries(rt) as statements:
        first = await directory.resolve("alpha.localhost")
    assert statements, "the first lookup reads the database"
    with counting_queries(rt) as statements:
        for host in ("alpha.localhost", "ALPHA.localhost:8000", "alpha.localhost"):
            assert await directory.resolve(host) is first
    assert statements == []
    assert len(directory) == 1


async def test_an_unknown_host_is_remembered_too(rt: Runtime) -> None:
    directory = directory_for(rt)
    with counting_queries(rt) as statements:
        assert await directory.resolve("nobody.localhost") is None
    assert statements
    with counting_queries(rt) as statements:
        assert await directory.resolve("nobody.localhost") is None
    assert statements == []


@pytest.mark.parametrize(
    "junk",
    ["a" * 300 + ".localhost", "al pha.localhost", "alpha.localhost/x", "[::1]", "é.localhost"],
)
async def test_implausible_hosts_touch_neither_database_nor_cache(rt: Runtime, junk: str) -> None:
    directory = directory_for(rt)
    with counting_queries(rt) as statements:
        assert await directory.resolve(junk) is None
    assert statements == []
    assert directory._unknown == {}  # a flood of junk cannot fill the miss cache either


async def test_the_platform_domain_never_touches_the_database(rt: Runtime) -> None:
    with counting_queries(rt) as statements:
        assert await directory_for(rt).resolve("localhost:8000") is PLATFORM
    assert statements == []


async def test_with_no_ttl_every_lookup_reads_the_database(rt: Runtime) -> None:
    await make_tenant(rt, "alpha")
    directory = directory_for(rt, ttl=0)
    await directory.resolve("alpha.localhost")
    with counting_queries(rt) as statements:
        assert isinstance(await directory.resolve("alpha.localhost"), TenantInfo)
    assert statements


async def test_known_tenants_are_bounded_by_capacity(rt: Runtime) -> None:
    for slug in ("alpha", "beta", "gamma"):
        await make_tenant(rt, slug)
    directory = directory_for(rt, capacity=2)
    for slug in ("alpha", "beta", "gamma"):
        await directory.resolve(f"{slug}.localhost")
    assert len(directory) == 2
    with counting_queries(rt) as statements:
        await directory.resolve("gamma.localhost")
    assert statements == []
    with counting_queries(rt) as statements:
        await directory.resolve("alpha.localhost")  # the least recently used went first
    assert statements


class FakeDatabase:
    """Answers every lookup with ``answer``, counting how often it was asked."""

    def __init__(self) -> None:
        self.answer: Tenant | None = None
        self.queries = 0

    @asynccontextmanager
    async def reading(self, tenant_id: uuid.UUID | None = None) -> AsyncIterator[FakeDatabase]:
        yield self

    async def scalar(self, _query: Any) -> Tenant | None:
        self.queries += 1
        return self.answer


def tenant_row(slug: str) -> Tenant:
    spec = tenant_spec(slug)
    return Tenant(
        id=uuid.uuid4(),
        slug=slug,
        name=spec.name,
        timezone=spec.timezone,
        locale=spec.locale,
        branding=spec.branding.model_dump(mode="json"),
        controller=spec.controller.model_dump(mode="json"),
        booking=spec.booking.model_dump(mode="json"),
        retention=spec.retention.model_dump(mode="json"),
        providers={},
        status="active",
    )


async def test_a_flood_of_unknown_hosts_is_bounded_and_never_evicts_tenants(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert directory_module._UNKNOWN_CAPACITY <= 100_000
    monkeypatch.setattr(directory_module, "_UNKNOWN_CAPACITY", 64)
    database = FakeDatabase()
    directory = TenantDirectory(
        database,  # type: ignore[arg-type]
        platform_domain="localhost",
        ttl=60,
        capacity=10,
    )
    database.answer = tenant_row("alpha")
    assert isinstance(await directory.resolve("alpha.localhost"), TenantInfo)
    database.answer = None
    flood = [f"made-up-{n}.example" for n in range(64 + 50)]
    for host in flood:
        assert await directory.resolve(host) is None
    assert database.queries == 1 + len(flood)
    database.queries = 0
    assert isinstance(await directory.resolve("alpha.localhost"), TenantInfo)
    assert await directory.resolve(flood[-1]) is None
    assert database.queries == 0, "the tenant and the latest misses are still cached"
    assert await directory.resolve(flood[0]) is None
    assert database.queries == 1, "the oldest miss was let go: the miss cache is bounded"
    assert len(directory) == 1
