"""The fake of Postbox, served once per test module, and the test kit's fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from praxis.core import testing

from fake_postbox import FakePostbox

pytest_plugins = ["praxis.core.testing.fixtures"]  # praxis_http, praxis_settings

SERVER_TOKEN = "test-postbox-server-token"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakePostbox, str]]:
    fake = FakePostbox(server_token=SERVER_TOKEN)
    with testing.serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def postbox(served: tuple[FakePostbox, str]) -> FakePostbox:
    served[0].reset()
    return served[0]


@pytest.fixture
def settings(served: tuple[FakePostbox, str]) -> dict[str, str]:
    return {
        "server_token": SERVER_TOKEN,
        "from_address": "appointments@northside-clinic.example",
        "api_base_url": served[1],
    }
