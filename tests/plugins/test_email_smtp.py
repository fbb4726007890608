"""plugins.email_smtp against a real SMTP server (aiosmtpd on 127.0.0.1), and into a Maildir."""

from __future__ import annotations

import asyncio
import mailbox
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr, ValidationError

import praxis.plugins.email_smtp as email_smtp
from praxis.core.hookspecs import DataCategory
from praxis.core.providers import network
from praxis.core.providers.common import (
    PermanentFailure,
    ProviderContext,
    TemporaryFailure,
    WebhookRejected,
    WebhookRequest,
)
from praxis.core.providers.email import EmailInbound, EmailMessage, EmailProvider, EmailReceipt
from praxis.core.providers.network import REQUIRE_TLS, AddressRefused, OutboundPolicy
from praxis.plugins.email_smtp import SmtpEmail, SmtpSettings
from praxis.plugins.email_smtp.inbound import signature as inbound_signature

RELAY = {
    "relay_company": "Ete Relay Ltd",
    "relay_privacy_policy_url": "https://relay.example/privacy",
}

# The test relay listens on 127.0.0.1 without a certificate: allowed here, as an operator would
LOCAL_RELAY = OutboundPolicy.parse("127.0.0.1", require_tls=False)

SENDER_NAME = 'Clinique d\'Été, "Paris"'
SUBJECT = "Votre rendez-vous est confirmé ✓"


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: MimeMessage
    login: bytes | None


@dataclass
class Inbox:
    """An aiosmtpd handler: keeps what arrives, refuses the recipients it is told to."""

    delivered: list[Delivered] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> SMTP reply

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, MimeMessage)
        login = session.auth_data.login if session.authenticated else None
        self.delivered.append(
            Delivered(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, login)
        )
        return "250 Message accepted for delivery"


def accept_clinic_login(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"clinic", b"s3cret")
    # handled=False: aiosmtpd answers a failure with 535 itself
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_port(inbox: Inbox) -> Iterator[int]:
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=accept_clinic_login,
        auth_require_tls=False,  # the test server has no certificate
    )
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def provider(
    http: httpx.AsyncClient, *, network: OutboundPolicy = LOCAL_RELAY, **values: Any
) -> SmtpEmail:
    settings = SmtpSettings(
        **{
            "host": "127.0.0.1",
            "security": "none",
            "from_address": "hello@ete.example",
            "timeout_seconds": 2,
            **RELAY,
            **values,
        }
    )
    context = ProviderContext(
        settings=settings,
        http=http,
        tenant_slug="ete",
        tenant_name="Clinique d'Été",
        public_url="https://ete.praxis.example",
        webhook_url="https://ete.praxis.example/-/plugins/email_smtp/webhook/",
        network=network,
    )
    return SmtpEmail(context)


def message(**values: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "idempotency_key": "outbox-41",
        "to": "dana@example.org",
        "subject": SUBJECT,
        "text": "Bonjour Dana,\nà demain, 10 h 30.\n",
        "sender_name": SENDER_NAME,
        "about": (DataCategory.APPOINTMENT,),
        "tenant_slug": "ete",
        **values,
    }
    return EmailMessage(**fields)


# --- settings and registration ---------------------------------------------------------------


def test_the_plugin_registers_its_provider_and_settings() -> None:
    manifest = email_smtp.praxis_manifest()
    assert (manifest.name, manifest.kind) == ("email_smtp", "email")
    assert [use.operation for use in manifest.data] == ["send_email"]
    assert manifest.settings_model is SmtpSettings
    assert email_smtp.praxis_register_providers() is SmtpEmail


def test_settings_check_the_from_address_and_hide_the_mailbox_from_clinics() -> None:
    settings = SmtpSettings(from_address="Hello@Ete.Example", **RELAY)
    assert (settings.host, settings.port, settings.security) == ("localhost", 587, "starttls")
    assert settings.password.get_secret_value() == ""
    assert settings.mailbox_dir is None
    with pytest.raises(ValidationError, match="from_address"):
        SmtpSettings(from_address="not an address", **RELAY)
    with pytest.raises(ValidationError, match="security"):
        SmtpSettings(from_address="hello@ete.example", security="ssl", **RELAY)
    schema = SmtpSettings.model_json_schema()["properties"]
    assert schema["mailbox_dir"]["praxis_operator_only"] is True
    assert "praxis_operator_only" not in schema["host"]


async def test_the_provider_implements_the_email_protocol(http: httpx.AsyncClient) -> None:
    assert isinstance(provider(http), EmailProvider)


# --- sending ---------------------------------------------------------------------------------


async def test_headers_and_body_arrive(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int
) -> None:
    receipt = await provider(http, port=smtp_port).send_email(message(reply_to="desk@ete.example"))

    [delivered] = inbox.delivered
    assert delivered.mail_from == "hello@ete.example"
    assert delivered.rcpt_tos == ["dana@example.org"]
    received = delivered.message
    [sender] = received["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (SENDER_NAME, "hello@ete.example")
    assert received["To"] == "dana@example.org"
    assert received["Reply-To"] == "desk@ete.example"
    assert received["Subject"] == SUBJECT
    assert received["Date"].datetime.tzinfo is not None
    assert received["X-Praxis-Tenant"] == "ete"
    assert received["Message-ID"] == receipt.message_id
    assert receipt.message_id.endswith("@ete.example>")
    assert received.get_content_charset() == "utf-8"
    assert received.get_content() == "Bonjour Dana,\r\nà demain, 10 h 30.\r\n"  # as on the wire
    assert delivered.login is None  # no username, no login


async def test_a_retried_send_carries_the_same_message_id(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int
) -> None:
    email = provider(http, port=smtp_port)
    first = await email.send_email(message())
    again = await email.send_email(message())
    other = await email.send_email(message(idempotency_key="outbox-42"))

    assert first == again != other
    ids = [d.message["Message-ID"] for d in inbox.delivered]
    assert ids == [first.message_id, first.message_id, other.message_id]
    assert "outbox-41" not in first.message_id  # derived, not the key itself


async def test_a_newline_in_the_subject_or_name_adds_no_header(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int
) -> None:
    await provider(http, port=smtp_port).send_email(
        message(subject="Hello\r\nBcc: x@evil.example", sender_name="Clinic\nX-Evil: 1")
    )
    [delivered] = inbox.delivered
    assert delivered.message["Bcc"] is None
    assert delivered.message["X-Evil"] is None
    assert delivered.message["Subject"] == "Hello Bcc: x@evil.example"
    assert delivered.rcpt_tos == ["dana@example.org"]


async def test_extra_headers_arrive_on_one_line_and_never_replace_the_envelope(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int
) -> None:
    """Plugin API 1.1: List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) pass through."""
    link = "<https://ete.praxis.example/unsubscribe/abc>"
    await provider(http, port=smtp_port).send_email(
        message(
            headers=(
                ("List-Unsubscribe", link),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                ("To", "x@evil.example"),
                ("Bcc", "x@evil.example"),
                ("X-Bad: 1\r\nX-Evil", "1"),
                ("X-Note", "one\r\nBcc: x@evil.example"),
            )
        )
    )
    [delivered] = inbox.delivered
    assert delivered.message["List-Unsubscribe"] == link
    assert delivered.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert delivered.message.get_all("To") == ["dana@example.org"]
    assert delivered.message["Bcc"] is None and delivered.message["X-Evil"] is None
    assert delivered.message["X-Note"] == "one Bcc: x@evil.example"
    assert delivered.rcpt_tos == ["dana@example.org"]


async def test_it_logs_in_when_a_username_is_set(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int
) -> None:
    email = provider(http, port=smtp_port, username="clinic", password=SecretStr("s3cret"))
    await email.send_email(message())
    assert [d.login for d in inbox.delivered] == [b"clinic"]


async def test_a_wrong_password_is_a_permanent_failure_that_does_not_echo_it(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int
) -> None:
    email = provider(http, port=smtp_port, username="clinic", password=SecretStr("wrong-pw"))
    with pytest.raises(PermanentFailure) as caught:
        await email.send_email(message())
    assert caught.value.reason == "the SMTP server refused the username or password (535)"
    assert "wrong-pw" not in str(caught.value)
    assert inbox.delivered == []


async def test_a_refused_recipient_is_a_permanent_failure(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int
) -> None:
    inbox.refuse["dana@example.org"] = "550 5.1.1 <dana@example.org>: no such user"
    with pytest.raises(PermanentFailure) as caught:
        await provider(http, port=smtp_port).send_email(message())
    assert caught.value.reason == "the SMTP server refused the recipient (550)"
    assert caught.value.code == "smtp_550"
    assert "dana" not in str(caught.value)
    assert inbox.delivered == []


async def test_a_temporary_refusal_is_worth_retrying(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int
) -> None:
    inbox.refuse["dana@example.org"] = "451 4.3.0 greylisted, try again later"
    with pytest.raises(TemporaryFailure) as caught:
        await provider(http, port=smtp_port).send_email(message())
    assert caught.value.reason == "the SMTP server refused the recipient (451)"
    assert "dana" not in str(caught.value)


async def test_nothing_listening_is_worth_retrying(http: httpx.AsyncClient) -> None:
    with pytest.raises(TemporaryFailure, match="could not connect to the SMTP server"):
        await provider(http, port=free_port()).send_email(message())


async def test_a_server_that_never_greets_times_out(http: httpx.AsyncClient) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # says nothing until the client gives up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TemporaryFailure, match="did not answer in time"):
            await provider(http, port=port, timeout_seconds=0.2).send_email(message())
    finally:
        server.close()
        await server.wait_closed()


async def test_a_server_that_hangs_up_is_worth_retrying(http: httpx.AsyncClient) -> None:
    async def rude(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(rude, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TemporaryFailure):
            await provider(http, port=port).send_email(message())
    finally:
        server.close()
        await server.wait_closed()


async def test_starttls_against_a_server_without_it_names_the_setting(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int
) -> None:
    with pytest.raises(PermanentFailure, match="check the security setting"):
        await provider(http, port=smtp_port, security="starttls").send_email(message())
    assert inbox.delivered == []


async def test_tls_against_a_plain_server_names_the_setting(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int
) -> None:
    with pytest.raises(TemporaryFailure, match="TLS handshake"):
        await provider(http, port=smtp_port, security="tls").send_email(message())
    assert inbox.delivered == []


# --- nothing a clinic types aims it inward; TLS outside development ----------------------------


def test_plain_smtp_is_refused_at_save_where_tls_is_required() -> None:
    values = {"from_address": "hello@ete.example", "security": "none", **RELAY}
    with pytest.raises(ValidationError, match="starttls or tls"):
        SmtpSettings.model_validate(values, context={REQUIRE_TLS: True})
    assert SmtpSettings.model_validate(values, context={REQUIRE_TLS: False}).security == "none"


async def test_plain_smtp_is_refused_on_connecting_where_tls_is_required(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int
) -> None:
    """The issue's attack: a relay on 127.0.0.1 with security=none, set before the rule."""
    production = OutboundPolicy.parse("127.0.0.1", require_tls=True)
    with pytest.raises(PermanentFailure, match="starttls or tls"):
        await provider(http, network=production, port=smtp_port).send_email(message())
    assert inbox.delivered == []


@pytest.mark.parametrize("answer", ["127.0.0.1", "10.0.0.7", "169.254.169.254"])
async def test_a_relay_that_resolves_inward_is_never_connected_to(
    http: httpx.AsyncClient,
    inbox: Inbox,
    smtp_port: int,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
) -> None:
    async def lookup(host: str, port: int) -> list[str]:
        return [answer]

    monkeypatch.setattr(network, "lookup", lookup)
    strict = OutboundPolicy(require_tls=False)
    relay = provider(http, network=strict, host="smtp.relay.example", port=smtp_port)
    with pytest.raises(AddressRefused, match=r"smtp\.relay\.example"):
        await relay.send_email(message())
    assert inbox.delivered == []


async def test_an_allowed_relay_is_reached_at_the_address_checked(
    http: httpx.AsyncClient, inbox: Inbox, smtp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def lookup(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(network, "lookup", lookup)
    allowed = OutboundPolicy.parse("smtp.relay.example", require_tls=False)
    await provider(http, network=allowed, host="smtp.relay.example", port=smtp_port).send_email(
        message()
    )
    assert len(inbox.delivered) == 1


async def test_an_unusable_recipient_is_refused_before_connecting(
    http: httpx.AsyncClient,
) -> None:
    email = provider(http, port=free_port())  # a connection attempt would fail differently
    with pytest.raises(PermanentFailure) as caught:
        await email.send_email(message(to="dana@example.org\r\nBcc: x@evil.example"))
    assert caught.value.reason == "the recipient address is not a valid email address"
    with pytest.raises(PermanentFailure, match="reply-to"):
        await email.send_email(message(reply_to="not an address"))


# --- the development mailbox -----------------------------------------------------------------


async def test_the_mailbox_mode_writes_one_message_and_opens_no_connection(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = tmp_path / "mailbox"
    # Nothing listens on this port: a connection attempt would raise TemporaryFailure.
    email = provider(http, port=free_port(), mailbox_dir=str(directory))

    receipt = await email.send_email(message())

    assert isinstance(receipt, EmailReceipt)
    stored = mailbox.Maildir(directory, factory=None, create=False)
    [key] = stored.keys()
    parsed = message_from_bytes(stored.get_bytes(key), policy=policy.default)
    assert isinstance(parsed, MimeMessage)
    assert parsed["Message-ID"] == receipt.message_id
    assert parsed["X-Praxis-Tenant"] == "ete"
    assert parsed["Subject"] == SUBJECT
    assert parsed["From"].addresses[0].display_name == SENDER_NAME
    assert parsed.get_content() == "Bonjour Dana,\nà demain, 10 h 30.\n"


async def test_sends_side_by_side_into_a_new_mailbox_all_arrive(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Jobs run in parallel lanes: the first messages into a new mailbox race to make it."""
    directory = tmp_path / "mailbox"
    email = provider(http, port=free_port(), mailbox_dir=str(directory))
    receipts = await asyncio.gather(*(email.send_email(message()) for _ in range(12)))
    assert all(isinstance(r, EmailReceipt) for r in receipts)
    assert len(mailbox.Maildir(directory, factory=None, create=False).keys()) == 12


async def test_a_folder_that_is_not_yet_a_mailbox_becomes_one(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = tmp_path / "mailbox"
    directory.mkdir()  # made by hand, or by a tool, without Maildir's tmp/new/cur
    email = provider(http, port=free_port(), mailbox_dir=str(directory))
    assert isinstance(await email.send_email(message()), EmailReceipt)
    assert len(mailbox.Maildir(directory, factory=None, create=False).keys()) == 1


async def test_an_unwritable_mailbox_is_worth_retrying(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    email = provider(http, mailbox_dir=str(blocker / "mailbox"))
    with pytest.raises(TemporaryFailure, match="development mailbox"):
        await email.send_email(message())


# --- inbound mail (plugin API 1.1) -------------------------------------------------------------


def inbound(body: bytes, secret: str = "s3cret", topic: str = "inbound") -> WebhookRequest:
    return WebhookRequest(
        url="https://ete.praxis.example/-/plugins/email_smtp/webhook/inbound",
        headers={"X-Praxis-Signature": inbound_signature(secret, body)},
        body=body,
        topic=topic,
        received_at=datetime.now(UTC),
    )


def test_inbound_mail_is_read_for_its_sender_and_subject_only(http: httpx.AsyncClient) -> None:
    smtp = provider(http, inbound_secret="s3cret")
    raw = (
        b"From: Dana <Dana@Example.org>\r\nSubject: Re:  Unsubscribe\r\n"
        b"Message-ID: <m1@mail.example>\r\n\r\nMy health is private.\r\n"
    )
    event = smtp.parse_webhook(inbound(raw))
    assert event == EmailInbound("<m1@mail.example>", "dana@example.org", "Re: Unsubscribe")
    assert "health" not in repr(event)  # the body is never read into the event
    assert smtp.parse_webhook(inbound(raw, topic="status")) is None
    assert smtp.parse_webhook(inbound(b"Subject: x\r\n\r\nno sender")) is None


def test_inbound_mail_needs_the_secret_and_a_matching_signature(http: httpx.AsyncClient) -> None:
    raw = b"From: dana@example.org\r\nSubject: Unsubscribe\r\n\r\n"
    with pytest.raises(WebhookRejected):
        provider(http).parse_webhook(inbound(raw))  # no secret set: nothing is accepted
    with pytest.raises(WebhookRejected):
        provider(http, inbound_secret="s3cret").parse_webhook(inbound(raw, secret="guess"))
    with pytest.raises(WebhookRejected):
        provider(http, inbound_secret="s3cret").parse_webhook(inbound(b""))
