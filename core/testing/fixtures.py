"""pytest fixtures for plugin authors: ``pytest_plugins = ["praxis.core.testing.fixtures"]``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from praxis.core.config import Settings
from praxis.core.testing.kit import client, settings_for_tests


@pytest.fixture
def praxis_settings(tmp_path: Path) -> Settings:
    """Settings for one test: SQLite under tmp_path, test mode."""
    return settings_for_tests(tmp_path)


@pytest.fixture
async def praxis_http() -> AsyncIterator[httpx.AsyncClient]:
    """A client like the platform's shared one, closed after the test."""
    async with client() as http:
        yield http
