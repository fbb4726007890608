"""The development sandbox: the fake Stripe, Whereby and Twilio (the tests' too), served by the app.

Mounted at ``/-/sandbox/<provider>/`` only when PRAXIS_ENV=development. The real plugins
(official SDKs and all) reach it because a tenant's settings point ``api_base_url`` at it;
nothing in a plugin knows it is a sandbox. The fakes' pages are what a person would see:
a checkout page with pay and cancel buttons, a video room, an SMS inbox per phone number.
Signed webhooks are pushed back to the tenant's webhook URLs.

The sandbox mirrors the tenants configured to use it: at start-up and whenever settings
change, each such tenant's keys, webhook endpoints and connected accounts are registered
with the fakes (which keep nothing across restarts).
"""

from __future__ import annotations

import importlib
import time
from typing import Any

import structlog
from sqlalchemy import select
from starlette.routing import Mount

from praxis.core.payments.models import PaymentAccount
from praxis.core.plugins.registry import webhook_url
from praxis.core.runtime import Runtime
from praxis.core.sandbox.email import EmailSandbox
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant

log = structlog.get_logger("praxis.sandbox")
PREFIX = "/-/sandbox"
# The provider's own pages send people back to the clinic's site after a form (pay, join):
# the platform's form-action 'self' would stop that, so sandbox pages carry a policy of theirs.
SANDBOX_CSP = (
    b"default-src 'self'; style-src 'self'; script-src 'none'; form-action 'self' http: https:; "
    b"frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
PROVIDERS = {"stripe": "payments_stripe", "whereby": "video_whereby", "twilio": "sms_twilio"}


def _fakes() -> dict[str, Any]:
    """The fakes, imported only when the sandbox is served (development)."""
    return {
        name: importlib.import_module(f"praxis.core.sandbox.{name}")
        for name in ("stripe", "whereby", "twilio")
    }


def base_url(settings: Any, provider: str, *, port: int | None = None) -> str:
    """Where plugins reach the sandbox: the server's own loopback address."""
    return f"http://127.0.0.1:{port or settings.site_port or 8000}{PREFIX}/{provider}"


class Sandbox:
    def __init__(self) -> None:
        modules = _fakes()
        self.stripe = modules["stripe"].FakeStripe(push=True)
        self.whereby = modules["whereby"].FakeWhereby(push=True)
        self.twilio = modules["twilio"].FakeTwilio(push=True)

    def routes(self) -> list[Mount]:
        return [
            *(
                Mount(f"{PREFIX}/{name}", app=_Synced(fake.app, self), name=f"sandbox_{name}")
                for name, fake in (
                    ("stripe", self.stripe),
                    ("whereby", self.whereby),
                    ("twilio", self.twilio),
                )
            ),
            # The clinic's mail server, for inbound email (an "Unsubscribe" reply).
            Mount(f"{PREFIX}/email", app=EmailSandbox(), name="sandbox_email"),
        ]

    async def sync(self, rt: Runtime) -> int:
        """Register every tenant whose plugins point at the sandbox. Returns how many."""
        async with rt.database.reading() as db:
            tenants = [TenantInfo.from_row(t) for t in await db.scalars(select(Tenant))]
        mirrored = 0
        for tenant in tenants:
            async with rt.database.reading(tenant.id) as db:
                used = False
                for provider, plugin in PROVIDERS.items():
                    row = await rt.provider_settings.row(db, plugin)
                    values = rt.provider_settings.stored(row, tenant.id)
                    if not str(values.get("api_base_url", "")).startswith(
                        base_url(rt.settings, provider)
                    ):
                        continue
                    used = True
                    hook = webhook_url(rt.settings, tenant, plugin)
                    if provider == "stripe":
                        accounts = list(await db.scalars(select(PaymentAccount)))
                        self._stripe(values, hook, accounts)
                    elif provider == "whereby":
                        self.whereby.add_api_key(
                            values["api_key"],
                            webhook_url=hook,
                            webhook_secret=values["webhook_secret"],
                        )
                    else:
                        self.twilio.add_account(values["account_sid"], values["auth_token"])
                        self.twilio.add_number(
                            values["from_number"],
                            hook + "/inbound",
                            account_sid=values["account_sid"],
                        )
                mirrored += used
        log.info("sandbox_synced", tenants=mirrored)
        return mirrored

    def _stripe(self, values: dict[str, Any], hook: str, accounts: list[PaymentAccount]) -> None:
        self.stripe.add_api_key(values["secret_key"])
        known = {(e.url, e.secret) for e in self.stripe.endpoints}
        if (hook, values["webhook_secret"]) not in known:
            self.stripe.add_webhook_endpoint(hook, values["webhook_secret"])
        for account in accounts:
            if account.account_ref not in self.stripe.accounts:
                self.stripe.add_account(account.account_ref, ready=account.charges_enabled)


class _Synced:
    """Before each sandbox request, bring the fakes in line with the tenants' settings (at most
    every few seconds): a clinic that just saved its keys can use the sandbox at once."""

    def __init__(self, app: Any, sandbox: Sandbox, every: float = 2.0) -> None:
        self.app = app
        self.sandbox = sandbox
        self.every = every
        self._last = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and time.monotonic() - self._last > self.every:
            self._last = time.monotonic()
            await self.sandbox.sync(scope["app"].state.runtime)

        async def send_as_provider(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"content-security-policy", SANDBOX_CSP))
            await send(message)

        await self.app(scope, receive, send_as_provider)
