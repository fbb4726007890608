"""core.plugins.platform_mail: the platform's own relay from PLATFORM_SMTP_URL and
PLATFORM_MAIL_FROM, refused in production when missing or wrong, with messages that never
echo the URL (it holds a password); off production, the development mailbox."""

from __future__ import annotations

import email
import email.policy
import mailbox
from pathlib import Path
from typing import Any

import httpx
import pytest

from praxis.core.config import ConfigError, Settings, load_settings
from praxis.core.plugins import load_plugins
from praxis.core.plugins.platform_mail import (
    DEVELOPMENT_FROM,
    MISSING,
    URL_FORM,
    platform_mail,
    relay,
    relay_settings,
)
from praxis.core.providers.network import OutboundPolicy
from praxis.core.runtime import build_runtime
from praxis.plugins.email_smtp import SmtpEmail
from tests.conftest import PLATFORM_RELAY, TEST_LEDGER_KEY, TEST_SECRET

PASSWORD = "p@ss:w/rd"  # the relay's, in these tests
URL = "smtps://praxis%40relay:p%40ss%3Aw%2Frd@smtp.example.org:2465"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLATFORM_SMTP_URL", "PLATFORM_MAIL_FROM", "PRAXIS_ENV"):
        monkeypatch.delenv(name, raising=False)


def settings(tmp_path: Path, env: str = "production", **values: Any) -> Settings:
    return load_settings(
        PRAXIS_ENV=env,
        PRAXIS_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY=TEST_SECRET,
        LEDGER_SIGNING_KEY=TEST_LEDGER_KEY,
        **values,
    )


def refusal(tmp_path: Path, env: str = "production", **values: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        relay(settings(tmp_path, env, **values), load_plugins())
    return str(caught.value)


def test_production_without_a_relay_refuses_to_start(tmp_path: Path) -> None:
    assert refusal(tmp_path) == MISSING
    assert MISSING.startswith("PLATFORM_SMTP_URL is not set.")
    with pytest.raises(ConfigError, match="PLATFORM_SMTP_URL is not set"):
        build_runtime(settings(tmp_path))


def test_production_with_a_relay_starts(tmp_path: Path) -> None:
    found = relay(settings(tmp_path, **PLATFORM_RELAY), load_plugins())
    assert (found.host, found.port, found.security) == ("smtp.example.org", 465, "tls")
    assert found.mailbox_dir is None


def test_the_url_gives_host_port_security_and_login(tmp_path: Path) -> None:
    values = relay_settings(
        settings(tmp_path, PLATFORM_SMTP_URL=URL, PLATFORM_MAIL_FROM="praxis@praxis.example")
    )
    assert values["host"] == "smtp.example.org"
    assert (values["port"], values["security"]) == (2465, "tls")
    assert (values["username"], values["password"]) == ("praxis@relay", PASSWORD)
    plain = relay_settings(
        settings(
            tmp_path, PLATFORM_SMTP_URL="smtp://relay.example", PLATFORM_MAIL_FROM="a@b.example"
        )
    )
    assert (plain["port"], plain["security"], plain["username"]) == (587, "starttls", "")


@pytest.mark.parametrize(
    "url",
    [
        "http://praxis:p%40ss%3Aw%2Frd@smtp.example.org",  # not SMTP
        "smtps://praxis:p%40ss%3Aw%2Frd@/",  # no host
        "smtps://praxis:p%40ss%3Aw%2Frd@smtp.example.org:99999",  # no such port
        "smtps://praxis:p%40ss%3Aw%2Frd@smtp.example.org/inbox",  # a path means a mistake
    ],
)
def test_a_wrong_url_is_refused_without_echoing_it(tmp_path: Path, url: str) -> None:
    message = refusal(tmp_path, PLATFORM_SMTP_URL=url, PLATFORM_MAIL_FROM="a@b.example")
    assert message == URL_FORM
    assert "p%40ss" not in message and PASSWORD not in message


def test_a_relay_needs_the_address_it_sends_as(tmp_path: Path) -> None:
    message = refusal(tmp_path, PLATFORM_SMTP_URL=URL)
    assert message.startswith("PLATFORM_MAIL_FROM is not set")
    wrong = refusal(tmp_path, PLATFORM_SMTP_URL=URL, PLATFORM_MAIL_FROM="not an address")
    assert wrong == "PLATFORM_MAIL_FROM: not usable (from_address)."


@pytest.mark.parametrize("env", ["development", "test"])
def test_off_production_mail_goes_to_the_development_mailbox(tmp_path: Path, env: str) -> None:
    found = relay(settings(tmp_path, env), load_plugins())
    assert Path(found.mailbox_dir) == (tmp_path / "var" / "mailbox").resolve()
    assert str(found.from_address) == DEVELOPMENT_FROM


async def test_the_platform_sends_through_the_email_smtp_plugin(tmp_path: Path) -> None:
    chosen = settings(tmp_path, "development", PLATFORM_MAIL_FROM="ops-mail@praxis.example")
    plugins = load_plugins()
    async with httpx.AsyncClient() as http:
        mail = platform_mail(chosen, plugins, relay(chosen, plugins), http, OutboundPolicy())
        assert isinstance(mail.provider, SmtpEmail)
        await mail.send(to="ops@example.org", subject="Hello", text="Body", key="k-1")
    box = mailbox.Maildir(tmp_path / "var" / "mailbox", create=False)
    (key,) = box.keys()
    sent = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
    assert sent["From"] == "Praxis platform <ops-mail@praxis.example>"
    assert (sent["To"], sent["Subject"]) == ("ops@example.org", "Hello")
    assert sent["X-Praxis-Tenant"] is None
