"""The fake of Lumen, served once per test module, and the test kit's fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from praxis.core import testing

from fake_lumen import FakeLumen

pytest_plugins = ["praxis.core.testing.fixtures"]  # praxis_http, praxis_settings

API_KEY = "test-lumen-api-key-0123"
WEBHOOK_SECRET = "test-lumen-webhook-secret"
WEBHOOK_URL = "https://test-clinic.praxis.example/-/plugins/video_lumen/webhook"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeLumen, str]]:
    fake = FakeLumen(api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, webhook_url=WEBHOOK_URL)
    with testing.serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def lumen(served: tuple[FakeLumen, str]) -> FakeLumen:
    fake = served[0]
    fake.rooms.clear()
    fake.faults.clear()
    fake.webhooks.clear()
    return fake


@pytest.fixture
def settings(served: tuple[FakeLumen, str]) -> dict[str, str]:
    """A clinic's settings, pointed at the fake (as an operator points the sandbox)."""
    return {"api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET, "api_base_url": served[1]}
