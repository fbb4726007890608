"""The fixtures keep their promise: a test sees what a new app on a new database would show,
though apps and databases are made once per session (tests/conftest.py, tests/snapshots.py)."""

from __future__ import annotations

import uuid
from collections import deque
from typing import Any

import httpx
from sqlalchemy import func, select

from praxis.core.accounts.models import User
from praxis.core.runtime import Runtime, build_runtime
from praxis.tenants.models import Tenant
from tests.conftest import SharedBackend, client_for, keeps_its_role, reset_runtime
from tests.functional.flows import book, pay
from tests.provider_fixtures import KINDS, Providers, payment_account, plugin_settings
from tests.support import Clinic, login, make_tenant, post_form

CONTAINERS = (dict, list, set, frozenset, deque, tuple)
SKIP = {"http", "database", "settings"}  # connection pools, and what never changes
KEPT = {  # what a runtime may keep from test to test, and why that changes no answer
    "rt.keyring._fernets": "keys derived from SECRET_KEY by purpose: equal in every runtime",
    "rt.keyring._keys": "the same",
    "rt.directory._loads": "the event loop's semaphore for cache misses, not an answer",
}


def held(obj: Any, path: str = "rt", depth: int = 0, seen: set[int] | None = None) -> dict:
    """How many items each container reachable from the runtime holds, by attribute path."""
    seen = set() if seen is None else seen
    found: dict[str, int] = {}
    if id(obj) in seen or depth > 6:
        return found
    seen.add(id(obj))
    if isinstance(obj, CONTAINERS):
        found[path] = len(obj)
        items = obj.values() if isinstance(obj, dict) else obj
        for index, item in enumerate(items):
            found |= held(item, f"{path}[{index}]", depth + 1, seen)
        return found
    module = type(obj).__module__
    if not module.startswith(("praxis.", "limits.")):
        return found
    fields = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
    for name in getattr(type(obj), "__slots__", ()):
        if hasattr(obj, name):
            fields[name] = getattr(obj, name)
    for name, value in fields.items():
        if name not in SKIP:
            found |= held(value, f"{path}.{name}", depth + 1, seen)
    return found


async def test_a_reset_runtime_holds_no_more_than_a_new_one(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    """Every cache a request can fill (tenants by host, built providers, opened data keys,
    sign-in counters...) is filled, then reset: nothing is left that a new runtime lacks."""
    async with client_for(app, clinic.host) as http:
        refused = await post_form(
            http, "/login", {"username": clinic.consumer.username, "password": "wrong-password"}
        )
        assert refused.status_code == 401
        await login(http, clinic.consumer.username)
        await pay(http, providers, await book(http, clinic))
    await providers.run_jobs()
    async with rt.database.writing(clinic.tenant.id) as db:
        await rt.data_keys.seal(db, clinic.tenant.id, "a sealed answer")
        await db.commit()
    used = held(rt)
    assert used["rt.directory._known"] and used["rt.registry._built"]  # it was used
    assert used["rt.data_keys._open"] and used["rt.throttle._storage.events"]

    fresh = build_runtime(rt.settings)
    try:
        await reset_runtime(rt)
        after, new = held(rt), held(fresh)
    finally:
        await fresh.close()
    left = {
        path: size for path, size in after.items() if size > new.get(path, 0) and path not in KEPT
    }
    assert left == {}, "reset_runtime (tests/conftest.py) forgets none of these"


async def count(rt: Runtime, model: Any) -> int:
    async with rt.database.reading() as db:
        query = select(func.count()).select_from(model).execution_options(platform_scope=True)
        return int(await db.scalar(query) or 0)


async def test_each_test_gets_the_snapshot_back_whatever_the_last_one_did(
    rt: Runtime, clinic: Clinic, shared_backends: dict[str, SharedBackend], backend: str
) -> None:
    shared = shared_backends[backend]
    tenants = await count(rt, Tenant)
    async with rt.database.writing(clinic.tenant.id) as db:
        user = await db.get(User, (clinic.tenant.id, clinic.consumer.id))
        assert user is not None
        user.full_name = "Changed By A Test"
        await db.commit()
    await make_tenant(rt, "gamma")
    assert await count(rt, Tenant) == tenants + 1

    again = await shared.prepare(("alpha",), None)  # what the next test with a clinic gets
    assert again.clinics["alpha"].tenant.id == clinic.tenant.id
    assert await count(rt, Tenant) == tenants
    async with rt.database.reading(clinic.tenant.id) as db:
        user = await db.get(User, (clinic.tenant.id, clinic.consumer.id))
        assert user is not None and user.full_name == "Alpha.Consumer Example"

    await shared.prepare((), None)
    assert await count(rt, Tenant) == 0
    assert await count(rt, User) == 0


async def test_a_test_without_clinics_starts_from_empty_tables(rt: Runtime) -> None:
    assert await count(rt, Tenant) == 0
    assert await count(rt, User) == 0


async def test_the_clinic_fixtures_are_a_test_s_own_to_change(
    clinic: Clinic, other_clinic: Clinic, shared_backends: dict[str, SharedBackend], backend: str
) -> None:
    """A test may change its Clinic (the providers fixture does): the next one gets a copy
    of the snapshot's, unchanged."""
    clinic.kinds["Extra"] = uuid.uuid4()
    made = (await shared_backends[backend].prepare(("alpha", "beta"), None)).clinics
    assert "Extra" not in made["alpha"].kinds
    assert made["beta"].tenant == other_clinic.tenant


async def test_an_app_with_overrides_is_reset_as_well(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    """The default app is shared; one with settings overrides is kept for the next test with
    the same overrides. Either way its sign-in counters start at zero."""
    for _ in range(3):
        refused = await post_form(
            client, "/login", {"username": clinic.consumer.username, "password": "wrong-pass"}
        )
        assert refused.status_code == 401
    assert held(rt)["rt.throttle._storage.events"] > 0
    await reset_runtime(rt)
    assert held(rt)["rt.throttle._storage.events"] == 0


async def test_a_configured_clinic_comes_back_as_configure_leaves_it(
    rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    """The ``providers`` fixture restores a snapshot taken after ``configure``: the same
    choices and settings, the payment account, and the fake's account to match."""
    assert clinic.tenant.providers.items() >= KINDS.items()
    expected = plugin_settings(providers.fakes, providers.mailbox_dir)
    async with rt.database.reading(clinic.tenant.id) as db:
        for plugin, values in expected.items():
            model = rt.plugins.manifests[plugin].settings_model
            stored = rt.provider_settings.stored(
                await rt.provider_settings.row(db, plugin), clinic.tenant.id
            )
            assert model.model_validate(stored) == model.model_validate(values), plugin
    account = await payment_account(rt, clinic.tenant)
    assert account is not None and account.account_ref == providers.account_id
    assert account.charges_enabled
    assert providers.account_id in providers.stripe.accounts
    assert providers.mails() == []


async def test_connections_are_renewed_exactly_when_a_pooled_one_would_lose_its_role(
    app: Any, rt: Runtime, shared_backends: dict[str, SharedBackend], backend: str
) -> None:
    """Kept connections are as good as new only if they keep the app's role (PostgreSQL);
    otherwise each test gets new ones, as a new app would."""
    apps = shared_backends[backend].apps
    renews = apps.renews(rt.settings)
    assert renews == (not await keeps_its_role(rt))
    async with rt.database.reading() as db:  # a connection, back in the pool afterwards
        await db.scalar(select(func.count()).select_from(Tenant))
    pooled = rt.database.engine.pool.checkedin()
    assert pooled >= 1
    await apps.reset(app)
    assert rt.database.engine.pool.checkedin() == (0 if renews else pooled)
