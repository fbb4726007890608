"""The fake of Tillpoint, served once per test module, and the test kit's fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from praxis.core import testing

from fake_tillpoint import FakeTillpoint

pytest_plugins = ["praxis.core.testing.fixtures"]  # praxis_http, praxis_settings

SECRET_KEY = "test-tillpoint-secret-key"
WEBHOOK_SECRET = "test-tillpoint-webhook-secret"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeTillpoint, str]]:
    fake = FakeTillpoint(secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET)
    with testing.serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def tillpoint(served: tuple[FakeTillpoint, str]) -> FakeTillpoint:
    served[0].reset()
    return served[0]


@pytest.fixture
def settings(served: tuple[FakeTillpoint, str]) -> dict[str, str]:
    """The operator's settings, pointed at the fake, with a 2.5% platform fee."""
    return {
        "secret_key": SECRET_KEY,
        "webhook_secret": WEBHOOK_SECRET,
        "platform_fee_percent": "2.5",
        "api_base_url": served[1],
    }
