"""Operators are told by email when their sign-in changes, through the platform's own mail
(the development mailbox here): one message per change, to their address, none when the
change is refused; a relay that fails never undoes or holds the change."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
from collections.abc import AsyncIterator
from email.message import Message
from typing import Any

import httpx
import pytest

from praxis.core.accounts import operator_alerts
from praxis.core.accounts.alerts import Change
from praxis.core.accounts.models import Operator
from praxis.core.plugins.platform_mail import DEVELOPMENT_FROM, PlatformMail
from praxis.core.providers.common import PermanentFailure, TemporaryFailure
from praxis.core.providers.email import EmailMessage, EmailReceipt
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.test_identity import NEW, change_password, error_on
from tests.functional.test_mfa import (
    code,
    give_code,
    recovery_codes_in,
    start_enrolment,
    wrong_code,
)
from tests.support import PASSWORD, make_operator, post_form

OPERATOR_EMAIL = "ops@example.org"  # tests.support.make_operator's


class Mailbox:
    """The platform's development mailbox, as it stood when the test began: the runtime's
    var directory is shared by the tests of a run."""

    def __init__(self, rt: Runtime) -> None:
        self.box = mailbox.Maildir(rt.settings.var_dir / "mailbox", create=True)
        self.before = set(self.box.keys())

    def new(self) -> list[Message]:
        keys = sorted(set(self.box.keys()) - self.before)
        return [
            email.message_from_bytes(self.box.get_bytes(k), policy=email.policy.default)
            for k in keys
        ]


@pytest.fixture
async def ops(app: Any, rt: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """An operator signed in on the platform, without two-step sign-in yet."""
    await make_operator(rt)
    async with client_for(app, rt.settings.platform_domain) as http:
        await post_form(http, "/platform/login", {"username": "ops", "password": PASSWORD})
        yield http


def only(mails: list[Message], subject: str) -> str:
    """The one message sent, checked for its address and subject; its text."""
    assert [(m["To"], m["Subject"]) for m in mails] == [(OPERATOR_EMAIL, subject)]
    (mail,) = mails
    assert DEVELOPMENT_FROM in mail["From"] and "Praxis platform" in mail["From"]
    assert mail["X-Praxis-Tenant"] is None  # no clinic's: clinic staff never see it
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Praxis platform operator account" in text
    assert "This happened on " in text and " UTC." in text
    assert "tell whoever runs this platform at once" in text
    return str(text)


async def test_a_changed_password_is_emailed_once_and_a_refused_one_not_at_all(
    ops: httpx.AsyncClient, rt: Runtime
) -> None:
    mail = Mailbox(rt)
    refused = await change_password(ops, "not-my-password", NEW, prefix="/platform")
    assert refused.status_code == 422
    assert mail.new() == []
    done = await change_password(ops, PASSWORD, NEW, prefix="/platform")
    assert done.status_code == 303
    text = only(mail.new(), "Your password was changed")
    assert NEW not in text and PASSWORD not in text


async def test_two_step_turned_on_then_moved_sends_one_email_each(
    ops: httpx.AsyncClient, rt: Runtime
) -> None:
    mail = Mailbox(rt)
    secret, offer, csrf = await start_enrolment(ops, "/platform")
    wrong = await ops.post(
        "/platform/account/security/confirm",
        data={"code": wrong_code(secret), "offer": offer, "csrf_token": csrf},
    )
    assert wrong.status_code == 422
    assert mail.new() == []  # a secret offered, or a wrong code, changes nothing
    turned_on = await ops.post(
        "/platform/account/security/confirm",
        data={"code": code(secret), "offer": offer, "csrf_token": csrf},
    )
    assert turned_on.status_code == 200
    text = only(mail.new(), "Two-step sign-in was turned on")
    assert secret not in text
    assert not any(c in text for c in recovery_codes_in(turned_on.text))

    mail = Mailbox(rt)
    secret, offer, csrf = await start_enrolment(ops, "/platform")
    moved = await ops.post(
        "/platform/account/security/confirm",
        data={"code": code(secret, 1), "offer": offer, "csrf_token": csrf},
    )
    assert moved.status_code == 303
    assert secret not in only(mail.new(), "Two-step sign-in was moved to a new device")


async def test_new_recovery_codes_are_emailed_only_after_the_password(
    ops: httpx.AsyncClient, rt: Runtime
) -> None:
    secret, offer, csrf = await start_enrolment(ops, "/platform")
    await ops.post(
        "/platform/account/security/confirm",
        data={"code": code(secret), "offer": offer, "csrf_token": csrf},
    )
    mail = Mailbox(rt)
    page = "/platform/account/security"
    path = f"{page}/recovery"
    refused = await post_form(ops, path, {"current_password": "wrong"}, page=page)
    assert refused.status_code == 422
    assert error_on(refused, "current_password")
    assert mail.new() == []
    made = await post_form(ops, path, {"current_password": PASSWORD}, page=page)
    assert made.status_code == 200
    codes = recovery_codes_in(made.text)
    text = only(mail.new(), "New recovery codes were made")
    assert codes and not any(c in text for c in codes)


async def test_a_recovery_code_used_to_sign_in_is_emailed_with_how_many_are_left(
    app: Any, ops: httpx.AsyncClient, rt: Runtime
) -> None:
    secret, offer, csrf = await start_enrolment(ops, "/platform")
    shown = await ops.post(
        "/platform/account/security/confirm",
        data={"code": code(secret), "offer": offer, "csrf_token": csrf},
    )
    codes = recovery_codes_in(shown.text)
    mail = Mailbox(rt)
    async with client_for(app, rt.settings.platform_domain) as later:
        await post_form(later, "/platform/login", {"username": "ops", "password": PASSWORD})
        assert (
            await give_code(later, "zzzz-zzzz-zzzz-zzzz", prefix="/platform")
        ).status_code == 422
        assert mail.new() == []
        assert (await give_code(later, codes[0], prefix="/platform")).status_code == 303
    text = only(mail.new(), "A recovery code was used to sign in")
    assert "9 codes are left." in text and codes[0] not in text


class FlakyRelay:
    """A relay that fails as it is told, then takes the message."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.tried: list[EmailMessage] = []

    async def send_email(self, message: EmailMessage) -> EmailReceipt:
        self.tried.append(message)
        if self.failures:
            raise self.failures.pop(0)
        return EmailReceipt(message_id="<sent@relay>")


DOWN = TemporaryFailure("could not connect to the SMTP server")


async def change_with_relay(
    ops: httpx.AsyncClient,
    rt: Runtime,
    relay: FlakyRelay,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> list[dict[str, Any]]:
    """Change the password with ``relay`` as the platform's; the alert events logged."""
    monkeypatch.setattr(rt, "platform_mail", PlatformMail(relay))
    monkeypatch.setattr(operator_alerts, "RETRY_WAITS", (0.0, 0.0))
    capsys.readouterr()
    done = await change_password(ops, PASSWORD, NEW, prefix="/platform")
    logged = capsys.readouterr().out
    assert done.status_code == 303  # the change stands, whatever the relay does
    assert OPERATOR_EMAIL not in logged and NEW not in logged
    events = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    return [e for e in events if str(e["event"]).startswith("operator_alert")]


async def test_a_relay_that_stays_down_keeps_the_change_and_logs_no_address(
    ops: httpx.AsyncClient,
    rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    relay = FlakyRelay(DOWN, DOWN, DOWN)
    (failed,) = await change_with_relay(ops, rt, relay, monkeypatch, capsys)
    assert [m.to for m in relay.tried] == [OPERATOR_EMAIL] * 3  # tried three times
    assert len({m.idempotency_key for m in relay.tried}) == 1  # as one message
    assert failed["event"] == "operator_alert_not_sent"
    assert failed["reason"] == "could not connect to the SMTP server"
    assert failed["change"] == "password_changed" and failed["alert_id"]


async def test_a_relay_that_refuses_is_not_asked_again(
    ops: httpx.AsyncClient,
    rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    relay = FlakyRelay(PermanentFailure("the SMTP server refused the recipient (550)"))
    (failed,) = await change_with_relay(ops, rt, relay, monkeypatch, capsys)
    assert len(relay.tried) == 1
    assert failed["reason"] == "the SMTP server refused the recipient (550)"


async def test_a_relay_that_fails_once_still_delivers(
    ops: httpx.AsyncClient,
    rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    relay = FlakyRelay(DOWN)
    events = await change_with_relay(ops, rt, relay, monkeypatch, capsys)
    assert len(relay.tried) == 2
    assert relay.tried[1].subject == "Your password was changed"
    assert not [e for e in events if e["event"] == "operator_alert_not_sent"]


async def test_nothing_is_due_from_a_change_that_was_not_committed(rt: Runtime) -> None:
    person = await make_operator(rt)
    async with rt.database.writing() as db:
        operator = await db.get(Operator, person.id)
        assert operator is not None
        operator_alerts.tell(db, operator, Change.PASSWORD_CHANGED)
        await db.rollback()
        assert operator_alerts.due(db) == []
        operator = await db.get(Operator, person.id)
        assert operator is not None
        operator_alerts.tell(db, operator, Change.RECOVERY_CODES_MADE)
        await db.commit()
        assert [a.change for a in operator_alerts.due(db)] == [Change.RECOVERY_CODES_MADE]
        assert operator_alerts.due(db) == []  # handed out once
