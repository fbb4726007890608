"""The shipped test kit (praxis.core.testing) on the built-in plugins, against the platform's
fakes, and on plugins that misbehave: it passes the good and names each fault of the bad."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import praxis.plugins.email_smtp as email_smtp
import praxis.plugins.payments_stripe as payments_stripe
import praxis.plugins.sms_twilio as sms_twilio
import praxis.plugins.video_whereby as video_whereby
from praxis.core import testing
from praxis.core.hookspecs import hookimpl
from praxis.core.plugins import PluginError
from praxis.core.providers.video import Meeting, MeetingRequest
from praxis.core.sandbox.stripe import FakeStripe
from praxis.core.sandbox.twilio import FakeTwilio
from praxis.core.sandbox.whereby import FakeWhereby

TWILIO_SID = "AC" + "2" * 32
TWILIO_TOKEN = "b" * 32
NUMBER = "+447700900999"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with testing.client() as client:
        yield client


@pytest.fixture(scope="module")
def whereby() -> Iterator[tuple[FakeWhereby, str]]:
    fake = FakeWhereby()
    fake.add_api_key("kit-key", webhook_url="", webhook_secret="kit-secret")
    with testing.serve(fake.app) as url:
        yield fake, url


async def test_the_whereby_plugin_behaves(
    whereby: tuple[FakeWhereby, str], http: httpx.AsyncClient
) -> None:
    plugin = testing.load(video_whereby)
    settings = {
        "api_key": "kit-key",
        "webhook_secret": "kit-secret",
        "api_base_url": whereby[1] + "/v1",
    }
    provider = testing.provider(plugin, settings, http=http)
    assert await testing.behaviour(plugin, provider) == []


async def test_the_twilio_plugin_behaves(http: httpx.AsyncClient) -> None:
    fake = FakeTwilio()
    fake.add_account(TWILIO_SID, TWILIO_TOKEN)
    fake.add_number(NUMBER, "")
    plugin = testing.load(sms_twilio)
    with testing.serve(fake.app) as url:
        settings = {
            "account_sid": TWILIO_SID,
            "auth_token": TWILIO_TOKEN,
            "from_number": NUMBER,
            "api_base_url": url,
        }
        provider = testing.provider(plugin, settings, http=http)
        assert await testing.behaviour(plugin, provider, phone="+447700900123") == []
    sent = [r for r in fake.requests if r.method == "POST" and r.path.endswith("Messages.json")]
    assert len(sent) == 1  # the retry found the first text
    deleted = [r.path for r in fake.requests if r.method == "DELETE"]
    assert len(deleted) == 2 and deleted[0] == deleted[1]  # erased, then erased again: gone
    assert [m for m in fake.messages if m.to == "+447700900123"] == []


async def test_the_smtp_plugin_behaves(tmp_path: Path, http: httpx.AsyncClient) -> None:
    plugin = testing.load(email_smtp)
    settings = {
        "from_address": "kit@clinic.example",
        "mailbox_dir": str(tmp_path / "mail"),
        "relay_company": "Kit Relay Ltd",
        "relay_privacy_policy_url": "https://relay.example/privacy",
    }
    provider = testing.provider(plugin, settings, http=http)
    assert await testing.behaviour(plugin, provider) == []


async def test_the_stripe_plugin_behaves(http: httpx.AsyncClient) -> None:
    fake = FakeStripe()
    fake.add_api_key("sk_test_kit_0123456789abcdef")
    plugin = testing.load(payments_stripe)
    with testing.serve(fake.app) as url:
        settings = {
            "secret_key": "sk_test_kit_0123456789abcdef",
            "webhook_secret": "whsec_kit_0123456789",
            "api_base_url": url,
        }
        provider = testing.provider(plugin, settings, http=http)
        assert await testing.behaviour(plugin, provider) == []


# --- and it catches what it should ------------------------------------------------------------


class Careless(video_whereby.WherebyVideo):
    """A Whereby plugin whose retries make a new room and which reads any webhook."""

    async def create_meeting(self, request: MeetingRequest) -> Meeting:
        fresh = MeetingRequest(f"{request.idempotency_key}-{request.attempt}", 1, request.ends_at)
        return await super().create_meeting(fresh)

    def parse_webhook(self, request: Any) -> None:
        return None


class CarelessPlugin:
    __name__ = "praxis_careless_video"

    @hookimpl
    def praxis_manifest(self) -> Any:
        return video_whereby.praxis_manifest().model_copy(update={"name": "video_careless"})

    @hookimpl
    def praxis_register_providers(self) -> Any:
        return Careless


async def test_the_kit_names_each_fault_of_a_careless_plugin(
    whereby: tuple[FakeWhereby, str], http: httpx.AsyncClient
) -> None:
    plugin = testing.load(CarelessPlugin())
    settings = {
        "api_key": "kit-key",
        "webhook_secret": "kit-secret",
        "api_base_url": whereby[1] + "/v1",
    }
    found = await testing.behaviour(plugin, testing.provider(plugin, settings, http=http))
    assert "create_meeting: a later attempt with the same idempotency key made a second room" in (
        " ".join(found)
    )
    assert "parse_webhook: a request with no signature was accepted (NoneType)" in found


async def test_load_and_provider_say_what_to_fix(http: httpx.AsyncClient) -> None:
    class Nameless:
        __name__ = "praxis_nameless"

    with pytest.raises(PluginError, match="it implements no praxis_manifest hook"):
        testing.load(Nameless())
    plugin = testing.load(video_whereby)
    with pytest.raises(PluginError, match="the example settings are not valid"):
        testing.provider(plugin, {"api_key": ""}, http=http)


def test_settings_for_tests_are_valid_and_take_overrides(tmp_path: Path) -> None:
    settings = testing.settings_for_tests(tmp_path, PROVIDER_TIMEOUT_SECONDS=7)
    assert settings.env == "test" and settings.provider_timeout_seconds == 7
    assert settings.database_url.endswith(f"{tmp_path}/praxis.db")
    assert datetime.now(UTC)  # the kit's own clock is UTC throughout
