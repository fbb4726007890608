"""pytest fixtures: the fake Stripe, Whereby and Twilio servers on 127.0.0.1, and a clinic
whose providers are the real plugins (official SDKs and all) pointed at them.

The servers start once per session; each test gets them reset. Webhooks the fakes sign are
recorded, and ``Providers.deliver`` posts them into the app as the provider would.
"""

from __future__ import annotations

import email
import mailbox
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from praxis.core.db import utcnow
from praxis.core.outbox import drain
from praxis.core.payments.models import PaymentAccount
from praxis.core.plugins.settings import put_settings
from praxis.core.runtime import Runtime
from praxis.core.sandbox.harness import Delivery, RunningFake, start
from praxis.core.sandbox.stripe import FakeStripe
from praxis.core.sandbox.twilio import FakeTwilio
from praxis.core.sandbox.whereby import FakeWhereby
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant

STRIPE_KEY = "sk_test_praxis_platform_key_0123456789"
STRIPE_WEBHOOK_SECRET = "whsec_praxis_test_secret_0123456789"
WHEREBY_KEY = "whereby-test-api-key-0123456789"
WHEREBY_SECRET = "whereby-webhook-secret-0123456789"
TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "a" * 32
CLINIC_NUMBER = "+447700900123"
RELAY_COMPANY = "Alpha Mail Relay Ltd"  # the company the clinic's email settings name
SLUG = "alpha"  # the clinic every test that uses providers configures
KINDS = {
    "payments": "payments_stripe",
    "video": "video_whereby",
    "sms": "sms_twilio",
    "email": "email_smtp",
    "questionnaires": "questionnaires",
}


@dataclass
class FakeServers:
    stripe: FakeStripe
    whereby: FakeWhereby
    twilio: FakeTwilio
    running: list[RunningFake] = field(default_factory=list)

    def url(self, index: int) -> str:
        return self.running[index].url


def _webhook(slug: str, plugin: str, topic: str = "") -> str:
    # Settings in tests: PRAXIS_ENV=test gives http, no port, platform domain "localhost".
    return f"http://{slug}.localhost/-/plugins/{plugin}/webhook" + (f"/{topic}" if topic else "")


@pytest.fixture(scope="session")
def fake_servers() -> Iterator[FakeServers]:
    stripe, whereby, twilio = FakeStripe(), FakeWhereby(), FakeTwilio()
    stripe.add_api_key(STRIPE_KEY)
    stripe.add_webhook_endpoint(_webhook(SLUG, "payments_stripe"), STRIPE_WEBHOOK_SECRET)
    whereby.add_api_key(
        WHEREBY_KEY, webhook_url=_webhook(SLUG, "video_whereby"), webhook_secret=WHEREBY_SECRET
    )
    twilio.add_account(TWILIO_SID, TWILIO_TOKEN)
    twilio.add_number(CLINIC_NUMBER, _webhook(SLUG, "sms_twilio", "inbound"))
    servers = FakeServers(stripe, whereby, twilio)
    servers.running = [start(stripe.app), start(whereby.app), start(twilio.app)]
    try:
        yield servers
    finally:
        for running in servers.running:
            running.stop()


def arrival(key: str) -> tuple[int, int, str]:
    """When a Maildir message arrived: its name starts "<seconds>.M<microseconds>P", and the
    microseconds are not zero-padded, so names alone sort 9 after 10 within one second."""
    found = re.match(r"(\d+)\.M(\d+)P", key)
    return (int(found[1]), int(found[2]), key) if found else (0, 0, key)


@dataclass
class Providers:
    """A clinic using every built-in provider, each against its fake."""

    rt: Runtime
    tenant: TenantInfo
    fakes: FakeServers
    mailbox_dir: Path
    account_id: str
    delivered: dict[str, int] = field(default_factory=dict)

    @property
    def stripe(self) -> FakeStripe:
        return self.fakes.stripe

    @property
    def whereby(self) -> FakeWhereby:
        return self.fakes.whereby

    @property
    def twilio(self) -> FakeTwilio:
        return self.fakes.twilio

    async def run_jobs(self, **kwargs: Any) -> int:
        return await drain(self.rt.jobs, **kwargs)

    def mails(self) -> list[Message]:
        """Every email delivered, oldest first."""
        box = mailbox.Maildir(self.mailbox_dir, create=True)
        return [
            email.message_from_bytes(box.get_bytes(key)) for key in sorted(box.keys(), key=arrival)
        ]

    async def deliver(self, client: httpx.AsyncClient, delivery: Delivery) -> httpx.Response:
        """POST one recorded webhook into the app, exactly as signed."""
        parts = urlsplit(delivery.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            k: v for k, v in delivery.headers.items() if k.lower() not in ("host", "content-length")
        }
        return await client.post(path, content=delivery.body, headers=headers)

    async def deliver_new(self, client: httpx.AsyncClient, name: str) -> list[httpx.Response]:
        """Deliver what the fake ``name`` (stripe, whereby, twilio) signed since last time."""
        fake = getattr(self, name)
        if name == "stripe":
            fake.drain()
        deliveries = list(fake.webhooks.deliveries)
        start_at = self.delivered.get(name, 0)
        self.delivered[name] = len(deliveries)
        answers = []
        for delivery in deliveries[start_at:]:
            answer = await self.deliver(client, delivery)
            assert answer.status_code == 200, (delivery.url, answer.status_code, answer.text)
            answers.append(answer)
        return answers


async def use_providers(rt: Runtime, tenant_id: uuid.UUID, kinds: dict[str, str]) -> TenantInfo:
    """Choose these plugins for the tenant (a settings change, not a deploy)."""
    async with rt.database.writing() as db:
        row = await db.get(Tenant, tenant_id)
        assert row is not None
        row.providers = {**row.providers, **kinds}
        await db.commit()
        rt.directory.forget_all()
        return TenantInfo.from_row(row)


INBOUND_EMAIL_SECRET = "inbound-mail-secret-for-tests"


def plugin_settings(servers: FakeServers, mailbox_dir: Path) -> dict[str, dict[str, Any]]:
    return {
        "payments_stripe": {
            "secret_key": STRIPE_KEY,
            "webhook_secret": STRIPE_WEBHOOK_SECRET,
            "api_base_url": servers.url(0),
        },
        "video_whereby": {
            "api_key": WHEREBY_KEY,
            "webhook_secret": WHEREBY_SECRET,
            "api_base_url": servers.url(1) + "/v1",
        },
        "sms_twilio": {
            "account_sid": TWILIO_SID,
            "auth_token": TWILIO_TOKEN,
            "from_number": CLINIC_NUMBER,
            "api_base_url": servers.url(2),
        },
        "email_smtp": {
            "from_address": "bookings@alpha.example",
            "mailbox_dir": str(mailbox_dir),
            "relay_company": RELAY_COMPANY,
            "relay_privacy_policy_url": "https://relay.example/privacy",
            "inbound_secret": INBOUND_EMAIL_SECRET,  # the clinic's mail server signs with it
        },
        "questionnaires": {},
    }


async def configure(
    rt: Runtime, tenant: TenantInfo, servers: FakeServers, mailbox_dir: Path
) -> tuple[TenantInfo, str]:
    """Every kind on its built-in plugin, settings stored as a clinic would, and the clinic's
    Stripe account connected and ready. Returns the fresh tenant snapshot and the account id."""
    tenant = await use_providers(rt, tenant.id, KINDS)
    settings = plugin_settings(servers, mailbox_dir)
    account_id = servers.stripe.add_account(ready=True)
    async with rt.database.writing(tenant.id) as db:
        for plugin, values in settings.items():
            model = rt.plugins.manifests[plugin].settings_model
            await put_settings(
                rt.provider_settings,
                db,
                tenant_id=tenant.id,
                plugin=plugin,
                model=model,
                values=values,
            )
        db.add(
            PaymentAccount(
                plugin="payments_stripe",
                account_ref=account_id,
                professional_id=None,
                charges_enabled=True,
                details_submitted=True,
                created_at=utcnow(),
            )
        )
        await db.commit()
    return tenant, account_id


@dataclass(frozen=True)
class Configured:
    """What ``configure`` did that lives outside the database: the Stripe account it added to
    the fake, and the folder the email plugin was told to write to."""

    account_id: str
    mailbox_dir: Path


# Set by the ``settings`` fixture when the database was restored with the clinic already
# configured (a snapshot taken after ``configure``): tests/conftest.py.
CONFIGURED = pytest.StashKey[Configured]()


@pytest.fixture
async def providers(
    rt: Runtime, clinic: Any, fake_servers: FakeServers, tmp_path: Path, request: Any
) -> AsyncIterator[Providers]:
    assert clinic.tenant.slug == SLUG
    for fake in (fake_servers.stripe, fake_servers.whereby, fake_servers.twilio):
        fake.reset()
    restored = request.node.stash.get(CONFIGURED, None)
    if restored is None:
        mailbox_dir = tmp_path / "mailbox"
        tenant, account_id = await configure(rt, clinic.tenant, fake_servers, mailbox_dir)
        clinic.tenant = tenant
    else:  # the rows are back; the fake and the folder are made to match them again
        account_id, mailbox_dir = restored.account_id, restored.mailbox_dir
        fake_servers.stripe.add_account(account_id, ready=True)
        shutil.rmtree(mailbox_dir, ignore_errors=True)
        assert clinic.tenant.providers.items() >= KINDS.items()
    yield Providers(rt, clinic.tenant, fake_servers, mailbox_dir, account_id)
    fake_servers.stripe.drain()


async def payment_account(rt: Runtime, tenant: TenantInfo) -> PaymentAccount | None:
    async with rt.database.reading(tenant.id) as db:
        return await db.scalar(select(PaymentAccount))
