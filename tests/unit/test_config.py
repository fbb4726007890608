"""core.config: settings from the environment, failing fast with a message that says what to do."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from praxis.core.config import ConfigError, Settings, load_settings

GOOD_SECRET = "s" * 32
LEDGER_KEY = "a2V5LWZvci1zaWduaW5nLXRoZS1sZWRnZXItMzJieXQ="  # 32 bytes in base64
SETTINGS_ENV = (
    "PRAXIS_ENV",
    "PRAXIS_VAR_DIR",
    "DATABASE_URL",
    "MIGRATION_DATABASE_URL",
    "DATABASE_ROLE",
    "SECRET_KEY",
    "LEDGER_SIGNING_KEY",
    "LEDGER_SIGNING_KEY_FILE",
    "PLATFORM_DOMAIN",
    "LOGIN_LIMIT_PER_ACCOUNT",
    "LOGIN_LIMIT_PER_CLIENT",
    "STAFF_MFA_REQUIRED",
    "OUTBOUND_ALLOWED_HOSTS",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings under test come from each test, not from whoever runs the suite."""
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)


def load(tmp_path: Path, **values: Any) -> Settings:
    return load_settings(PRAXIS_VAR_DIR=str(tmp_path / "var"), **values)


def refusal(tmp_path: Path, **values: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **values)
    return str(caught.value)


# --- the secret ------------------------------------------------------------------------------


def test_production_without_a_secret_key_is_a_clear_error(tmp_path: Path) -> None:
    message = refusal(tmp_path, PRAXIS_ENV="production")
    assert message.startswith("SECRET_KEY is not set.")
    assert "at least 32 characters" in message
    assert not (tmp_path / "var" / "secret_key").exists()


def test_production_is_the_default(tmp_path: Path) -> None:
    assert "SECRET_KEY is not set" in refusal(tmp_path)


def test_the_environment_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRAXIS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("LEDGER_SIGNING_KEY", LEDGER_KEY)
    monkeypatch.setenv("PLATFORM_DOMAIN", "Praxis.Example.")
    settings = load(tmp_path)
    assert settings.env == "production"
    assert settings.secret() == GOOD_SECRET.encode()
    assert settings.platform_domain == "praxis.example"
    assert settings.secure_cookies


@pytest.mark.parametrize("env", ["production", "development", "test"])
def test_a_short_secret_is_refused_everywhere(tmp_path: Path, env: str) -> None:
    message = refusal(tmp_path, PRAXIS_ENV=env, SECRET_KEY="s" * 31)
    assert message == "SECRET_KEY is too short: use at least 32 random characters."


def test_an_empty_secret_is_not_a_secret(tmp_path: Path) -> None:
    assert "SECRET_KEY" in refusal(tmp_path, PRAXIS_ENV="production", SECRET_KEY="")


def test_the_secret_is_never_shown(tmp_path: Path) -> None:
    settings = load(
        tmp_path, PRAXIS_ENV="production", SECRET_KEY=GOOD_SECRET, LEDGER_SIGNING_KEY=LEDGER_KEY
    )
    for secret in (GOOD_SECRET, LEDGER_KEY):
        assert secret not in repr(settings)
        assert secret not in str(settings.model_dump())


def test_development_generates_a_secret_once_readable_only_by_its_owner(tmp_path: Path) -> None:
    first = load(tmp_path, PRAXIS_ENV="development")
    path = tmp_path / "var" / "secret_key"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret()) >= 32
    assert path.read_text().strip().encode() == first.secret()
    again = load(tmp_path, PRAXIS_ENV="development")
    assert again.secret() == first.secret()


def test_a_given_secret_wins_over_the_generated_one(tmp_path: Path) -> None:
    load(tmp_path, PRAXIS_ENV="development")
    settings = load(tmp_path, PRAXIS_ENV="development", SECRET_KEY=GOOD_SECRET)
    assert settings.secret() == GOOD_SECRET.encode()


def test_a_damaged_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text("short\n")
    message = refusal(tmp_path, PRAXIS_ENV="development")
    assert "secret_key" in message and "delete it" in message


# --- the ledger's signing key ---------------------------------------------------------------


def test_production_without_a_ledger_signing_key_is_a_clear_error(tmp_path: Path) -> None:
    message = refusal(tmp_path, PRAXIS_ENV="production", SECRET_KEY=GOOD_SECRET)
    assert message.startswith("LEDGER_SIGNING_KEY_FILE is not set.")
    assert "openssl genpkey -algorithm ed25519" in message
    assert not (tmp_path / "var" / "ledger_signing_key").exists()


def test_development_generates_a_ledger_key_once_readable_only_by_its_owner(
    tmp_path: Path,
) -> None:
    first = load(tmp_path, PRAXIS_ENV="development")
    path = tmp_path / "var" / "ledger_signing_key"
    assert first.ledger_signing_key_file == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load(tmp_path, PRAXIS_ENV="development")
    assert again.ledger_key_text() == first.ledger_key_text() == path.read_text()


def test_a_ledger_key_file_that_cannot_be_read_names_the_variable(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        PRAXIS_ENV="production",
        SECRET_KEY=GOOD_SECRET,
        LEDGER_SIGNING_KEY_FILE=str(tmp_path / "nowhere.pem"),
    )
    with pytest.raises(ConfigError, match="LEDGER_SIGNING_KEY_FILE: cannot read"):
        settings.ledger_key_text()


def test_a_secret_file_lost_in_a_race_is_read_not_overwritten(tmp_path: Path) -> None:
    """Two processes start at once: the one that did not write the file reads the other's."""
    var = tmp_path / "var"
    var.mkdir()
    (var / "secret_key").write_text("w" * 64)
    assert load(tmp_path, PRAXIS_ENV="development").secret() == b"w" * 64


def test_development_defaults_to_sqlite_under_var(tmp_path: Path) -> None:
    settings = load(tmp_path, PRAXIS_ENV="development")
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'praxis.db'}"
    assert settings.migration_url == settings.database_url
    assert not settings.is_postgres
    assert settings.is_development
    assert not settings.secure_cookies


def test_migrations_may_use_another_url(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        PRAXIS_ENV="development",
        DATABASE_URL="postgresql+asyncpg://app@db/praxis",
        MIGRATION_DATABASE_URL="postgresql+asyncpg://owner@db/praxis",
    )
    assert settings.is_postgres
    assert settings.migration_url == "postgresql+asyncpg://owner@db/praxis"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db/praxis", "postgresql+asyncpg://u:p@db/praxis"),
        ("postgresql://u:p@db/praxis", "postgresql+asyncpg://u:p@db/praxis"),
        ("postgresql+asyncpg://u:p@db/praxis", "postgresql+asyncpg://u:p@db/praxis"),
        ("sqlite:////srv/praxis.db", "sqlite+aiosqlite:////srv/praxis.db"),
        ("sqlite+aiosqlite:///var/p.db", "sqlite+aiosqlite:///var/p.db"),
    ],
)
def test_database_urls_get_the_async_driver(tmp_path: Path, given: str, used: str) -> None:
    settings = load(tmp_path, PRAXIS_ENV="development", DATABASE_URL=given)
    assert settings.database_url == used


@pytest.mark.parametrize(
    "url", ["mysql://u:secret-pw@db/praxis", "postgresql+psycopg2://u@db/x", "praxis.db"]
)
@pytest.mark.parametrize("name", ["DATABASE_URL", "MIGRATION_DATABASE_URL"])
def test_unsupported_database_urls_are_refused(tmp_path: Path, name: str, url: str) -> None:
    message = refusal(tmp_path, PRAXIS_ENV="development", **{name: url})
    assert message.startswith(f"{name}: use sqlite+aiosqlite:///")
    assert "secret-pw" not in message


# --- other values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    [
        "https://praxis.example",
        "praxis.example:8000",
        "",
        "praxis example",
        "-praxis.example",
        "..",
    ],
)
def test_a_bad_platform_domain_is_refused(tmp_path: Path, domain: str) -> None:
    message = refusal(tmp_path, PRAXIS_ENV="development", PLATFORM_DOMAIN=domain)
    assert message.startswith("PLATFORM_DOMAIN: ")
    assert "bare host name such as praxis.example" in message


@pytest.mark.parametrize("domain", ["localhost", "praxis.example", "PRAXIS.example."])
def test_good_platform_domains(tmp_path: Path, domain: str) -> None:
    settings = load(tmp_path, PRAXIS_ENV="development", PLATFORM_DOMAIN=domain)
    assert settings.platform_domain == domain.lower().rstrip(".")


@pytest.mark.parametrize(
    "role", ["Praxis", "praxis-app", "1praxis", 'x"; DROP ROLE y; --', "a" * 64]
)
def test_a_bad_database_role_is_refused(tmp_path: Path, role: str) -> None:
    message = refusal(tmp_path, PRAXIS_ENV="development", DATABASE_ROLE=role)
    assert message.startswith("DATABASE_ROLE: ")
    assert "lower-case PostgreSQL role name" in message
    assert "DROP" not in message


def test_an_empty_database_role_means_connect_as_is(tmp_path: Path) -> None:
    assert load(tmp_path, PRAXIS_ENV="development", DATABASE_ROLE="").database_role == ""


@pytest.mark.parametrize(
    "rate", ["five a minute", "5", "5/fortnight", "0/minute", "/minute", "5/15 minutes; rm"]
)
@pytest.mark.parametrize("name", ["LOGIN_LIMIT_PER_ACCOUNT", "LOGIN_LIMIT_PER_CLIENT"])
def test_bad_rate_strings_are_refused(tmp_path: Path, name: str, rate: str) -> None:
    message = refusal(tmp_path, PRAXIS_ENV="development", **{name: rate})
    assert message.startswith(f"{name}: ")
    assert "a rate limit reads like '5/15 minutes' or '30/minute'" in message


@pytest.mark.parametrize("rate", ["5/15 minutes", "30/minute", "10 per hour", "100/day"])
def test_good_rate_strings(tmp_path: Path, rate: str) -> None:
    settings = load(tmp_path, PRAXIS_ENV="development", LOGIN_LIMIT_PER_ACCOUNT=rate)
    assert settings.login_limit_per_account == rate


def test_an_unknown_environment_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, PRAXIS_ENV="staging")
    assert message.startswith("PRAXIS_ENV: ")
    assert "'development', 'test' or 'production'" in message


def test_every_problem_is_listed_without_echoing_values(tmp_path: Path) -> None:
    message = refusal(
        tmp_path,
        PRAXIS_ENV="development",
        PLATFORM_DOMAIN="http://secret-host",
        DATABASE_POOL_SIZE="lots-secret",
    )
    lines = message.splitlines()
    assert any(line.startswith("PLATFORM_DOMAIN: ") for line in lines)
    assert any(line.startswith("DATABASE_POOL_SIZE: ") for line in lines)
    assert "secret" not in message


def test_booleans_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_MFA_REQUIRED", "false")
    assert load(tmp_path, PRAXIS_ENV="development").staff_mfa_required is False
    monkeypatch.delenv("STAFF_MFA_REQUIRED")
    assert load(tmp_path, PRAXIS_ENV="development").staff_mfa_required is True


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load(tmp_path, PRAXIS_ENV="development")
    with pytest.raises(ValueError, match="frozen"):
        settings.platform_domain = "elsewhere.example"  # type: ignore[misc]
    assert os.environ.get("PRAXIS_ENV") is None


# --- where providers may be reached ----------------------------------------------------------


def test_only_development_allows_this_machine_unless_hosts_are_named(tmp_path: Path) -> None:
    production = load(
        tmp_path, PRAXIS_ENV="production", SECRET_KEY=GOOD_SECRET, LEDGER_SIGNING_KEY=LEDGER_KEY
    )
    assert (production.outbound_allowed, production.requires_tls) == ("", True)
    development = load(tmp_path, PRAXIS_ENV="development")
    assert development.outbound_allowed == "localhost,127.0.0.1,::1"
    assert not development.requires_tls
    named = load(tmp_path, PRAXIS_ENV="development", OUTBOUND_ALLOWED_HOSTS="relay.internal")
    assert named.outbound_allowed == "relay.internal"  # named: only what is named
