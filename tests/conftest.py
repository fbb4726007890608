"""Fixtures: every database-touching test runs on SQLite, and on PostgreSQL too when
TEST_DATABASE_URL is set. The schema is migrated once per backend; tables are emptied
between tests. PostgreSQL tests run the app as the non-owner role, under row-level security.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from praxis.core import migrate
from praxis.core.app import create_app
from praxis.core.config import Settings, load_settings
from praxis.core.runtime import Runtime
from tests.support import Clinic, make_clinic

pytest_plugins = ["tests.conformance", "tests.provider_fixtures"]

TEST_SECRET = "test-secret-key-that-is-long-enough-for-praxis-0123456789"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Migrate each backend once: SQLite in a temp file, PostgreSQL from base to head."""
    urls = {"sqlite": f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"}
    if os.environ.get("TEST_DATABASE_URL"):
        urls["postgresql"] = os.environ["TEST_DATABASE_URL"]
    for url in urls.values():
        settings = _settings(url, tmp_path_factory.mktemp("var"))
        if url.startswith("postgresql"):
            migrate.downgrade(settings, "base")
        migrate.upgrade(settings)
    return urls


def _settings(url: str, var_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "PRAXIS_ENV": "test",
        "PRAXIS_VAR_DIR": str(var_dir),
        "DATABASE_URL": url,
        "SECRET_KEY": TEST_SECRET,
        "STAFF_MFA_REQUIRED": False,
        "RATE_LIMIT_STORAGE": "memory://",
        "LOG_LEVEL": "WARNING",
        "PROVIDER_TIMEOUT_SECONDS": 2,
    }
    values.update(overrides)
    return load_settings(**values)


async def empty_tables(url: str) -> None:
    """Start each test from empty tables, as the owner (row-level security does not apply)."""
    import praxis.core.models  # noqa: F401  (every table)
    from praxis.core.db import Base

    engine = create_async_engine(url)
    names = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if url.startswith("postgresql"):
            await conn.execute(text(f"TRUNCATE {', '.join(names)} CASCADE"))
        else:
            for name in names:
                await conn.execute(text(f"DELETE FROM {name}"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Override in a test module (or with indirect parametrisation) to change settings."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
async def settings(
    backend: str,
    database_urls: dict[str, str],
    tmp_path: Path,
    settings_overrides: dict[str, Any],
) -> Settings:
    url = database_urls[backend]
    await empty_tables(url)
    return _settings(url, tmp_path, **settings_overrides)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings, access_log=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def rt(app: Any) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture
async def clinic(rt: Runtime) -> Clinic:
    """Tenant A: a clinic with an approved Professional (diary open every day), a pending
    one, a consumer and a clinic admin."""
    return await make_clinic(rt, "alpha")


@pytest.fixture
async def other_clinic(rt: Runtime) -> Clinic:
    """Tenant B, beside A, to prove neither sees the other."""
    return await make_clinic(rt, "beta")


def client_for(app: Any, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=f"http://{host}", follow_redirects=False
    )


@pytest.fixture
async def client(app: Any, clinic: Clinic) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, clinic.host) as http:
        yield http


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent
