"""Fixtures: every database-touching test runs on SQLite, and on PostgreSQL too when
TEST_DATABASE_URL is set. PostgreSQL tests run the app as the non-owner role, under
row-level security.

Each backend's schema is migrated once per session (and per pytest-xdist worker, each in a
database of its own: see tests/snapshots.py), and its app is built once from the default test
settings. Every test then starts from a restored snapshot of the database (empty, or holding
the clinics it asks for: ``clinic``, ``other_clinic``) and from an app whose in-process state
(caches, sign-in counters) is reset, so it sees what a new app on a new database would show.
A test that overrides settings (``settings_overrides``) gets an app built with them, kept for
the next tests with the same overrides and reset the same way; one whose overrides change
how data is stored (environment, secret, domain) makes its clinics itself, as before.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import socket
import ssl
import sys
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


def _cache_bytecode_in_the_venv() -> None:
    """Where PYTHONDONTWRITEBYTECODE is set (as in many containers), every process of the suite
    (each xdist worker, each `praxis` the tests start) compiled every module and rewrote every
    test's assertions again: about 10 s of CPU a worker. The tests write bytecode as Python
    does by default, beside the sources (``__pycache__``, ignored by git), for the processes
    they start too. Not in a separate tree (sys.pycache_prefix): Python would then look for
    the installed packages' bytecode there only, and compile all of them again (78 MB)."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return
    os.environ.pop("PYTHONDONTWRITEBYTECODE")
    sys.dont_write_bytecode = False


_cache_bytecode_in_the_venv()

# Assertions in these helpers count as the test's own (see tests/conformance.py), and fail
# with pytest's explanations: they must be marked before anything imports them.
pytest.register_assert_rewrite(
    "tests.support",
    "tests.functional.flows",
    "tests.provider_fixtures",
    "tests.snapshots",
    "tests.oidc_provider",
)

import httpx  # noqa: E402
import httpx._transports.default as httpx_transports  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from praxis.core import migrate  # noqa: E402
from praxis.core.app import create_app  # noqa: E402
from praxis.core.config import Settings, load_settings  # noqa: E402
from praxis.core.providers import network  # noqa: E402
from praxis.core.runtime import Runtime  # noqa: E402
from tests import snapshots  # noqa: E402
from tests.provider_fixtures import CONFIGURED, Configured, FakeServers, configure  # noqa: E402
from tests.support import Clinic, make_clinic  # noqa: E402

pytest_plugins = [
    "tests.budget",
    "tests.conformance",
    "tests.provider_fixtures",
    "tests.oidc_provider",
]

TEST_SECRET = "test-secret-key-that-is-long-enough-for-praxis-0123456789"
TEST_LEDGER_KEY = "dGVzdC1sZWRnZXItc2lnbmluZy1rZXktMzItYnl0ZXM="  # 32 bytes, base64
# Production will not start without the platform's own mail relay (operators' alerts).
PLATFORM_RELAY = {
    "PLATFORM_SMTP_URL": "smtps://praxis:relay-password@smtp.example.org:465",
    "PLATFORM_MAIL_FROM": "praxis@praxis.example",
}
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
CLINIC_FIXTURES = {"clinic": "alpha", "other_clinic": "beta"}
_MADE = pytest.StashKey[dict[str, Clinic]]()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Migrate each backend once: SQLite in a temp file, PostgreSQL from base to head (under
    pytest-xdist, in a database of this worker's own, made afresh)."""
    urls = {"sqlite": f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"}
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        urls["postgresql"] = snapshots.postgres_url_for_worker(server)
    for url in urls.values():
        settings = _settings(url, tmp_path_factory.mktemp("var"))
        if not url.startswith("postgresql"):
            migrate.upgrade(settings)
            continue
        assert server is not None
        with snapshots.migration_lock(server):
            if url == server:
                migrate.downgrade(settings, "base")
            else:
                snapshots.create_database(server, url)
            migrate.upgrade(settings)
    return urls


def _settings(url: str, var_dir: Path, **overrides: Any) -> Settings:
    """``url``: the owner's (``database_urls``). On PostgreSQL the app signs in as its own
    role and migrates as the owner, as production does."""
    postgres = url.startswith("postgresql")
    values: dict[str, Any] = {
        "PRAXIS_ENV": "test",
        "PRAXIS_VAR_DIR": str(var_dir),
        "DATABASE_URL": snapshots.app_url(url) if postgres else url,
        "MIGRATION_DATABASE_URL": url if postgres else "",
        "SECRET_KEY": TEST_SECRET,
        "LEDGER_SIGNING_KEY": TEST_LEDGER_KEY,
        "STAFF_MFA_REQUIRED": False,
        "RATE_LIMIT_STORAGE": "memory://",
        "LOG_LEVEL": "WARNING",
        # Far above any answer of the fakes, even on a machine busy with parallel workers:
        # a test about timeouts sets its own (tests/functional/test_faults.py).
        "PROVIDER_TIMEOUT_SECONDS": 10,
        # The fakes listen on 127.0.0.1: the one inward address the tests' providers may reach
        "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
    }
    values.update(overrides)
    return load_settings(**values)


async def empty_tables(url: str) -> None:
    """Empty every table, as the owner (row-level security does not apply). The fixtures
    restore snapshots instead; tests that build a runtime of their own may call this."""
    import praxis.core.models  # noqa: F401  (every table)
    from praxis.core.db import Base

    engine = create_async_engine(url)
    names = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if url.startswith("postgresql"):
            await conn.execute(text(f"TRUNCATE {', '.join(names)} CASCADE"))
        else:
            for name in names:
                await conn.execute(text(f"DELETE FROM {name}"))
    await engine.dispose()


async def reset_runtime(rt: Runtime, *, renew_connections: bool = False) -> None:
    """Forget everything the runtime learnt in process, as a freshly built one knows nothing:
    hosts and tenants, built providers, opened data keys, sign-in counters. The database was
    just restored, so each of these could otherwise answer from a test before (the clinics of
    a snapshot keep their ids from test to test). tests/test_fixtures.py proves it complete.

    Pooled connections are kept: one is as good as new, unless ``renew_connections`` (see
    ``keeps_its_role``)."""
    if renew_connections:
        await rt.database.dispose()
    rt.forget()
    await rt.visits.forget()  # page views counted but not yet written
    if rt.settings.rate_limit_storage.startswith("memory"):
        await rt.throttle.reset()  # a storage of its own; never a shared Redis


async def keeps_its_role(rt: Runtime) -> bool:
    """Does a pooled PostgreSQL connection of this runtime keep the app's restricted role
    after a read-only transaction (which ends in a rollback)? It does: core/db.py commits its
    SET ROLE (test_a_connection_keeps_the_restricted_role_for_its_whole_life). Were that to
    regress, a reused connection would run a later test as the tables' owner, so row-level
    security would hold or not by chance: the fixtures would then renew the connections before
    each test, as a new app opens them (about 10 ms a test)."""
    if not rt.settings.database_url.startswith("postgresql"):
        return True
    who = text("SELECT current_user").execution_options(platform_scope=True)
    await rt.database.dispose()
    seen = []
    for _ in range(2):  # one connection, two transactions
        async with rt.database.reading() as db:
            seen.append(await db.scalar(who))
    await rt.database.dispose()
    return seen[0] == seen[1]


def same_data(a: Settings, b: Settings) -> bool:
    """Would clinics made by an app of ``a`` be stored exactly as one of ``b`` makes them?"""
    return (a.database_url, a.env, a.secret_key, a.platform_domain) == (
        b.database_url,
        b.env,
        b.secret_key,
        b.platform_domain,
    )


class Apps:
    """Apps built once and reused: the default one for the whole session, and the last few
    built with settings overrides (tests sharing overrides run one after another). Each is
    reset before a test uses it (``reset_runtime``)."""

    KEPT = 2  # apps with overrides kept per backend: a PostgreSQL pool each

    def __init__(self, folders: pytest.TempPathFactory) -> None:
        self._folders = folders
        self._settings: dict[str, Settings] = {}
        self._defaults: set[int] = set()  # id() of the default settings of each backend
        self._built: dict[int, tuple[Any, AsyncExitStack]] = {}  # id(settings) -> app
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._renew: dict[int, bool] = {}  # id(settings) -> renew connections each test?

    def settings(self, backend: str, url: str, overrides: dict[str, Any]) -> Settings:
        """One Settings object per backend and overrides: its identity names its app."""
        key = f"{backend} {sorted(overrides.items())!r}"
        if key not in self._settings:
            made = _settings(url, self._folders.mktemp(f"var-{backend}"), **overrides)
            self._settings[key] = made
            if not overrides:
                self._defaults.add(id(made))
        return self._settings[key]

    def knows(self, settings: Settings) -> bool:
        return any(settings is known for known in self._settings.values())

    async def app(self, settings: Settings) -> Any:
        key = id(settings)
        if key not in self._built:
            application = create_app(settings, access_log=False)
            own = AsyncExitStack()
            await own.enter_async_context(application.router.lifespan_context(application))
            self._built[key] = (application, own)
            self._renew[key] = not await keeps_its_role(application.state.runtime)
            if key not in self._defaults:
                self._recent[key] = None
                while len(self._recent) > self.KEPT * len(BACKENDS):
                    evicted, _ = self._recent.popitem(last=False)
                    await self._built.pop(evicted)[1].aclose()
        elif key in self._recent:
            self._recent.move_to_end(key)
        return self._built[key][0]

    def renews(self, settings: Settings) -> bool:
        """Are the connections of this app renewed before each test (``keeps_its_role``)?"""
        return self._renew[id(settings)]

    async def reset(self, application: Any) -> None:
        runtime: Runtime = application.state.runtime
        await reset_runtime(runtime, renew_connections=self.renews(runtime.settings))

    async def close(self) -> None:
        for _, own in self._built.values():
            await own.aclose()
        self._built.clear()


@dataclass
class State:
    clinics: dict[str, Clinic]
    configured: Configured | None = None


def _copy(state: State) -> State:
    """A copy a test may change: each Clinic, its people, its kinds and its tenant's
    providers (the rest of a TenantInfo is frozen)."""
    clinics = {
        slug: dataclasses.replace(
            clinic,
            tenant=dataclasses.replace(clinic.tenant, providers=dict(clinic.tenant.providers)),
            professional=copy.copy(clinic.professional),
            pending_professional=copy.copy(clinic.pending_professional),
            consumer=copy.copy(clinic.consumer),
            admin=copy.copy(clinic.admin),
            kinds=dict(clinic.kinds),
        )
        for slug, clinic in state.clinics.items()
    }
    return State(clinics, state.configured)


@dataclass
class SharedBackend:
    """One backend's database states, and the settings (and app) of the default tests."""

    url: str
    settings: Settings
    states: snapshots.States
    apps: Apps
    mailbox_dir: Path  # where the email plugin of a configured clinic writes
    made: dict[str, State] = field(default_factory=lambda: {snapshots.EMPTY: State({})})

    async def prepare(self, slugs: tuple[str, ...], servers: FakeServers | None) -> State:
        """The database as it would be with just these clinics made (and, given the fake
        servers, the first one's providers configured by the ``providers`` fixture): a state
        is made once, by the default app, saved, and restored from then on."""
        name = "+".join(slugs + (("providers",) if servers else ())) or snapshots.EMPTY
        if name in self.made:
            await self.states.restore(name)
        else:
            await self.states.restore(snapshots.EMPTY)
            default = await self.apps.app(self.settings)
            await self.apps.reset(default)
            rt: Runtime = default.state.runtime
            state = State({slug: await make_clinic(rt, slug) for slug in slugs})
            if servers is not None:
                first = state.clinics[slugs[0]]
                servers.stripe.reset()
                first.tenant, account = await configure(rt, first.tenant, servers, self.mailbox_dir)
                state.configured = Configured(account, self.mailbox_dir)
            await self.states.save(name)
            self.made[name] = state  # only once saved: a failure above is retried next time
        return _copy(self.made[name])  # a test may change its Clinic


@pytest.fixture(scope="session")
async def shared_backends(
    database_urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, SharedBackend]]:
    async with AsyncExitStack() as stack:
        apps = Apps(tmp_path_factory)
        stack.push_async_callback(apps.close)
        shared = {}
        for name, url in database_urls.items():
            folder = tmp_path_factory.mktemp(f"snapshots-{name}")
            states = await stack.enter_async_context(snapshots.database_states(url, folder))
            mailbox_dir = tmp_path_factory.mktemp(f"mailbox-{name}")
            default = apps.settings(name, url, {})
            shared[name] = SharedBackend(url, default, states, apps, mailbox_dir)
        yield shared


# The tests' DNS: this machine's names only. A settings form checks the hosts it is given
# (praxis.core.providers.network), and a real resolver was seen taking 10 s to say that
# relay.example does not exist; tests that need other answers replace ``lookup`` themselves.
_KNOWN_NAMES = {"localhost": ["127.0.0.1"]}


async def _tests_dns(host: str, port: int) -> list[str]:
    found = _KNOWN_NAMES.get(host.lower().rstrip("."))
    if found is None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return list(found)


@pytest.fixture(scope="session", autouse=True)
def _no_real_dns() -> Iterator[None]:
    original = network.lookup
    network.lookup = _tests_dns
    try:
        yield
    finally:
        network.lookup = original


@pytest.fixture(scope="session", autouse=True)
def _one_tls_context() -> Iterator[None]:
    """Every httpx client loads certifi's CA bundle into a TLS context of its own: about 40 ms,
    for each of the hundreds of clients the tests build (each app has one). The tests speak
    plain HTTP only, so one context, made once, serves every client that wants the default."""
    original = httpx_transports.create_ssl_context
    made: dict[bool, ssl.SSLContext] = {}

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is not True or cert is not None:
            return original(verify=verify, cert=cert, trust_env=trust_env)
        if trust_env not in made:
            made[trust_env] = original(verify=verify, cert=cert, trust_env=trust_env)
        return made[trust_env]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx_transports, "create_ssl_context", create_ssl_context)
        yield


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Override in a test module (or with indirect parametrisation) to change settings."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
async def settings(
    backend: str,
    shared_backends: dict[str, SharedBackend],
    settings_overrides: dict[str, Any],
    request: pytest.FixtureRequest,
) -> Settings:
    """The test's settings, and its database restored: empty, or with the clinics it uses."""
    shared = shared_backends[backend]
    chosen = shared.apps.settings(backend, shared.url, settings_overrides)
    wanted = request.fixturenames
    slugs = tuple(slug for name, slug in CLINIC_FIXTURES.items() if name in wanted)
    if not same_data(chosen, shared.settings):
        slugs = ()  # the test's own app makes its clinics, as it would store them
    configured = "providers" in wanted and slugs[:1] == ("alpha",)
    servers = request.getfixturevalue("fake_servers") if configured else None
    state = await shared.prepare(slugs, servers)
    request.node.stash[_MADE] = state.clinics
    if state.configured is not None:
        request.node.stash[CONFIGURED] = state.configured
    return chosen


@pytest.fixture
async def app(
    settings: Settings, backend: str, shared_backends: dict[str, SharedBackend]
) -> AsyncIterator[Any]:
    """The app of these settings: built once, and reset, so it knows no earlier test."""
    apps = shared_backends[backend].apps
    if not apps.knows(settings):  # a test's own settings fixture: an app of its own
        application = create_app(settings, access_log=False)
        async with application.router.lifespan_context(application):
            yield application
        return
    application = await apps.app(settings)
    await apps.reset(application)
    yield application


@pytest.fixture
def rt(app: Any) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


async def _clinic(request: pytest.FixtureRequest, rt: Runtime, slug: str) -> Clinic:
    made = request.node.stash.get(_MADE, {})
    return made[slug] if slug in made else await make_clinic(rt, slug)


@pytest.fixture
async def clinic(rt: Runtime, request: pytest.FixtureRequest) -> Clinic:
    """Tenant A: a clinic with an approved Professional (diary open every day), a pending
    one, a consumer and a clinic admin."""
    return await _clinic(request, rt, "alpha")


@pytest.fixture
async def other_clinic(rt: Runtime, request: pytest.FixtureRequest) -> Clinic:
    """Tenant B, beside A, to prove neither sees the other."""
    return await _clinic(request, rt, "beta")


def client_for(app: Any, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=f"http://{host}", follow_redirects=False
    )


@pytest.fixture
async def client(app: Any, clinic: Clinic) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, clinic.host) as http:
        yield http


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent
