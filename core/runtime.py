"""Everything a process builds once from Settings and shares: the web app, CLI and worker."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from core.accounts.mfa import Authenticator
from core.accounts.passwords import Passwords
from core.accounts.sessions import OperatorSessions, SessionPolicy, UserSessions
from core.accounts.throttle import LoginThrottle
from core.config import Settings
from core.crypto import Keyring
from core.db import Database, create_engine
from core.plugins import Plugins, load_plugins
from tenants.directory import TenantDirectory


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

    async def close(self) -> None:
        await self.throttle.close()
        await self.database.dispose()


def build_runtime(settings: Settings, *, extra_plugins: Iterable[object] = ()) -> Runtime:
    database = Database(create_engine(settings))
    keyring = Keyring(settings.secret())
    policy = SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )
    return Runtime(
        settings=settings,
        database=database,
        directory=TenantDirectory(
            database,
            platform_domain=settings.platform_domain,
            ttl=settings.tenant_cache_ttl_seconds,
            capacity=settings.tenant_cache_size,
        ),
        plugins=load_plugins(extra=extra_plugins),
        keyring=keyring,
        passwords=Passwords(cheap=settings.env == "test"),
        throttle=LoginThrottle(
            settings.rate_limit_storage,
            per_account=settings.login_limit_per_account,
            per_client=settings.login_limit_per_client,
        ),
        user_sessions=UserSessions(policy),
        operator_sessions=OperatorSessions(policy),
        authenticator=Authenticator(keyring),
    )
