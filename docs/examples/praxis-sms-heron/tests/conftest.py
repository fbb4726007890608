"""The fake of Heron, served once per test module, and the test kit's fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from praxis.core import testing

from fake_heron import FakeHeron

pytest_plugins = ["praxis.core.testing.fixtures"]  # praxis_http, praxis_settings

API_KEY = "test-heron-api-key-0123"
SIGNING_SECRET = "test-heron-signing-secret"
WEBHOOK_URL = "https://test-clinic.praxis.example/-/plugins/sms_heron/webhook"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeHeron, str]]:
    fake = FakeHeron(
        api_key=API_KEY, signing_secret=SIGNING_SECRET, inbound_url=WEBHOOK_URL + "/inbound"
    )
    with testing.serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def heron(served: tuple[FakeHeron, str]) -> FakeHeron:
    served[0].reset()
    return served[0]


@pytest.fixture
def settings(served: tuple[FakeHeron, str]) -> dict[str, str]:
    """A clinic's settings, pointed at the fake (as an operator points the sandbox)."""
    return {
        "api_key": API_KEY,
        "signing_secret": SIGNING_SECRET,
        "sender": "+447700900100",
        "api_base_url": served[1],
    }
