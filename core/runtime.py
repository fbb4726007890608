"""Everything a process builds once from Settings and shares: the web app, CLI and worker."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from praxis.core import wiring
from praxis.core.accounts.mfa import Authenticator
from praxis.core.accounts.passwords import Passwords
from praxis.core.accounts.sessions import OperatorSessions, SessionPolicy, UserSessions
from praxis.core.accounts.throttle import LoginThrottle
from praxis.core.analytics.counter import VisitCounter
from praxis.core.caches import Kept
from praxis.core.clinics.listing import Listings
from praxis.core.config import ConfigError, Settings
from praxis.core.crypto import Keyring
from praxis.core.datakeys import DataKeys
from praxis.core.db import create_engine
from praxis.core.identity.platform import PlatformIdentityProvider, from_settings
from praxis.core.ledger.signing import SigningKey, SigningKeyError
from praxis.core.outbox import JobServices, RetryPolicy
from praxis.core.plugins import Plugins, load_plugins
from praxis.core.plugins.facade import Facade
from praxis.core.plugins.outbound import provider_client
from praxis.core.plugins.platform_mail import PlatformMail, platform_mail, relay
from praxis.core.plugins.registry import Registry
from praxis.core.plugins.settings import SettingsStore
from praxis.core.providers.network import OutboundPolicy
from praxis.core.tenancy import Database
from praxis.tenants.directory import TenantDirectory, TenantInfo

WIRED = wiring.DOMAINS  # their handlers, subscribers and appliers are registered
WEEK_SECONDS = 10.0  # a free-times page's week is kept this long (booking here drops it)
WEEKS_KEPT = 512
DIRECTORY_HTML_KEPT = 64  # searches' results of the current snapshot; older ones go first


@dataclass
class PageCaches:
    """Pages this app keeps a moment so each is computed once, not per visitor: its own, so
    two apps in one process (tests) never see each other's."""

    weeks: Kept[Any]  # the free-times page's weeks (web.pages.portal.Week)
    directory: Listings  # the public directory's snapshot
    directory_html: Kept[str]  # the clinics a directory search found, as HTML, per snapshot

    @classmethod
    def of(cls, settings: Settings) -> PageCaches:
        return cls(
            weeks=Kept(seconds=WEEK_SECONDS, size=WEEKS_KEPT),
            directory=Listings(seconds=settings.directory_cache_seconds),
            directory_html=Kept(seconds=settings.directory_cache_seconds, size=DIRECTORY_HTML_KEPT),
        )

    def forget(self) -> None:
        self.weeks.clear()
        self.directory.forget()
        self.directory_html.clear()


@dataclass
class Runtime:
    settings: Settings
    database: Database
    directory: TenantDirectory
    plugins: Plugins
    keyring: Keyring
    passwords: Passwords
    throttle: LoginThrottle
    user_sessions: UserSessions
    operator_sessions: OperatorSessions
    authenticator: Authenticator
    http: httpx.AsyncClient
    provider_settings: SettingsStore
    registry: Registry
    retry_policy: RetryPolicy
    data_keys: DataKeys
    visits: VisitCounter  # page views counted in process, written every few seconds
    ledger_key: SigningKey  # signs each clinic's ledger checkpoints; never in the database
    outbound: OutboundPolicy  # where anything an admin typed may be reached
    pages: PageCaches  # pages kept a moment: this app's own
    # The platform's own mail to operators (PLATFORM_SMTP_URL, or the development mailbox).
    platform_mail: PlatformMail
    # Operators may sign in through it (PLATFORM_OIDC_*); None: with a password only.
    platform_provider: PlatformIdentityProvider | None = None

    def providers(self, tenant: TenantInfo) -> Facade:
        """The tenant's providers: the one way to call them, each call in the ledger."""
        return Facade(self.database, self.registry, tenant)

    @functools.cached_property
    def jobs(self) -> JobServices:
        """What the outbox's runner and its handlers are given."""
        return JobServices(
            database=self.database,
            settings=self.settings,
            keyring=self.keyring,
            retry_policy=self.retry_policy,
            providers=self.providers,
            concurrency=self.settings.worker_concurrency,
        )

    def forget(self) -> None:
        """Drop what this process learnt from the database (hosts and tenants, built providers,
        opened data keys), as a new process knows nothing: after a restore, say."""
        self.directory.forget_all()
        self.registry.forget_all()
        self.data_keys.forget_all()
        self.pages.forget()

    async def close(self) -> None:
        await self.visits.flush()
        await self.http.aclose()
        await self.throttle.close()
        await self.database.dispose()


def ledger_key(settings: Settings) -> SigningKey:
    """The checkpoints' signing key, refused at start-up if it cannot be used."""
    try:
        return SigningKey.from_text(settings.ledger_key_text())
    except SigningKeyError as exc:
        raise ConfigError(f"LEDGER_SIGNING_KEY(_FILE): {exc}.") from None


def build_runtime(settings: Settings, *, extra_plugins: Iterable[object] = ()) -> Runtime:
    signing_key = ledger_key(settings)  # before anything that needs closing is opened
    platform_provider = from_settings(settings)  # half set up: refused before anything opens
    plugins = load_plugins(extra=extra_plugins)
    mail_relay = relay(settings, plugins)  # production without one: refused before anything opens
    database = Database(create_engine(settings))
    keyring = Keyring(settings.secret())
    policy = SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )
    outbound = OutboundPolicy.parse(settings.outbound_allowed, require_tls=settings.requires_tls)
    http = provider_client(outbound, timeout=settings.provider_timeout_seconds)
    store = SettingsStore(keyring, outbound)
    mail = platform_mail(settings, plugins, mail_relay, http, outbound)
    return Runtime(
        settings=settings,
        database=database,
        directory=TenantDirectory(
            database,
            platform_domain=settings.platform_domain,
            ttl=settings.tenant_cache_ttl_seconds,
            capacity=settings.tenant_cache_size,
        ),
        plugins=plugins,
        keyring=keyring,
        passwords=Passwords(cheap=settings.env == "test"),
        throttle=LoginThrottle(
            settings.rate_limit_storage,
            per_account=settings.login_limit_per_account,
            per_client=settings.login_limit_per_client,
            per_device=settings.login_limit_per_device,
        ),
        user_sessions=UserSessions(policy),
        operator_sessions=OperatorSessions(policy),
        authenticator=Authenticator(keyring),
        http=http,
        provider_settings=store,
        registry=Registry(plugins, store, http, settings, outbound),
        retry_policy=RetryPolicy(
            max_attempts=settings.outbox_max_attempts,
            base=timedelta(seconds=settings.outbox_backoff_seconds),
            cap=timedelta(seconds=settings.outbox_backoff_cap_seconds),
        ),
        data_keys=DataKeys(keyring),
        visits=VisitCounter(database),
        ledger_key=signing_key,
        outbound=outbound,
        pages=PageCaches.of(settings),
        platform_mail=mail,
        platform_provider=platform_provider,
    )
