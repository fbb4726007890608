"""core.identity.platform: the platform's OpenID provider from PLATFORM_OIDC_*, all or none,
refused at start-up with the missing or wrong variable named and the secret never shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from praxis.core.config import ConfigError, Settings, load_settings
from praxis.core.identity.platform import VARIABLES, PlatformIdentityProvider, from_settings
from praxis.core.runtime import build_runtime

SECRET = "client-secret-never-shown-0123456789"
FULL = {
    "PLATFORM_OIDC_ISSUER": "https://login.example.org/",
    "PLATFORM_OIDC_CLIENT_ID": "praxis-platform",
    "PLATFORM_OIDC_CLIENT_SECRET": SECRET,
    "PLATFORM_OIDC_EMAIL_DOMAIN": "@Example.ORG",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def settings(tmp_path: Path, env: str = "test", **values: Any) -> Settings:
    return load_settings(
        PRAXIS_ENV=env,
        PRAXIS_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY="s" * 32,
        LEDGER_SIGNING_KEY="a2V5LWZvci1zaWduaW5nLXRoZS1sZWRnZXItMzJieXQ=",
        **values,
    )


def refusal(tmp_path: Path, env: str = "test", **values: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        from_settings(settings(tmp_path, env, **values))
    message = str(caught.value)
    assert SECRET not in message
    return message


def test_none_set_means_operators_sign_in_with_a_password_only(tmp_path: Path) -> None:
    assert from_settings(settings(tmp_path)) is None


def test_all_set_gives_the_provider_cleaned(tmp_path: Path) -> None:
    found = from_settings(settings(tmp_path, **FULL))
    assert found == PlatformIdentityProvider(
        issuer="https://login.example.org",
        client_id="praxis-platform",
        client_secret=SECRET,
        email_domain="example.org",
    )
    assert SECRET not in repr(found)
    assert SECRET not in repr(settings(tmp_path, **FULL))


@pytest.mark.parametrize("left_out", VARIABLES)
def test_one_left_out_is_named(tmp_path: Path, left_out: str) -> None:
    given = {name: value for name, value in FULL.items() if name != left_out}
    message = refusal(tmp_path, **given)
    assert f"{left_out} is not set" in message and "Set them all, or none" in message


def test_several_left_out_are_all_named(tmp_path: Path) -> None:
    message = refusal(tmp_path, PLATFORM_OIDC_CLIENT_SECRET=SECRET)
    assert (
        "PLATFORM_OIDC_ISSUER, PLATFORM_OIDC_CLIENT_ID, PLATFORM_OIDC_EMAIL_DOMAIN are not set"
        in message
    )


def test_blank_is_not_set(tmp_path: Path) -> None:
    message = refusal(tmp_path, **{**FULL, "PLATFORM_OIDC_CLIENT_ID": "  "})
    assert "PLATFORM_OIDC_CLIENT_ID is not set" in message


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("PLATFORM_OIDC_ISSUER", "login.example.org", "PLATFORM_OIDC_ISSUER: give the provider"),
        ("PLATFORM_OIDC_ISSUER", "https://login.example.org/?x=1", "no ? or #"),
        ("PLATFORM_OIDC_EMAIL_DOMAIN", "not a domain", "PLATFORM_OIDC_EMAIL_DOMAIN: give"),
    ],
)
def test_a_wrong_value_is_named_not_echoed(
    tmp_path: Path, name: str, value: str, words: str
) -> None:
    message = refusal(tmp_path, **{**FULL, name: value})
    assert words in message and value not in message


def test_production_wants_https(tmp_path: Path) -> None:
    message = refusal(
        tmp_path, "production", **{**FULL, "PLATFORM_OIDC_ISSUER": "http://op.example"}
    )
    assert message == "PLATFORM_OIDC_ISSUER: use the issuer's https:// address."


def test_the_runtime_refuses_to_start_half_set_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PLATFORM_OIDC_EMAIL_DOMAIN is not set"):
        build_runtime(settings(tmp_path, **{k: v for k, v in FULL.items() if "DOMAIN" not in k}))
