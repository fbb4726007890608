"""Operators who forgot their password: the clinic accounts' rules (single-use, hashed, an
hour, three an hour, the same answer for anyone) with the platform's own mail; a reset ends
every session, tells the operator, and leaves two-step sign-in in place."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from praxis.core.accounts.models import OperatorPasswordReset
from praxis.core.crypto import token_digest
from praxis.core.db import utcnow
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.test_identity import error_on
from tests.functional.test_mfa import code, start_enrolment
from tests.functional.test_operator_alerts import OPERATOR_EMAIL, Mailbox, only
from tests.support import PASSWORD, Clinic, csrf_in, make_operator, post_form

NEW_PASSWORD = "a-brand-new-password"
FORGOT, RESET, LOGIN = "/platform/password/forgot", "/platform/password/reset", "/platform/login"


def _platform(app: Any, rt: Runtime) -> httpx.AsyncClient:
    return client_for(app, rt.settings.platform_domain)


async def _ask(http: httpx.AsyncClient, who: str) -> httpx.Response:
    return await post_form(http, FORGOT, {"who": who})


def _link(mail: Mailbox) -> str:
    """The one link emailed since the mailbox was opened, checked for address and subject."""
    (sent,) = mail.new()
    assert (sent["To"], sent["Subject"]) == (OPERATOR_EMAIL, "Set a new password")
    text = sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Praxis platform operator account" in text
    found = re.search(r"(/platform/password/reset\?token=[\w-]+)", text)
    assert found, text
    return found.group(1)


async def _operator_with_link(app: Any, rt: Runtime) -> tuple[httpx.AsyncClient, str]:
    """An operator who asked for a link: the browser that asked, and the emailed link."""
    await make_operator(rt)
    http = _platform(app, rt)
    mail = Mailbox(rt)
    await _ask(http, "ops")
    return http, _link(mail)


async def _reset(http: httpx.AsyncClient, link: str, password: str) -> httpx.Response:
    """Post a new password with the link's token (the CSRF field from the form that asks for
    a link: a refused link's page has no form)."""
    token = link.split("token=")[1]
    csrf = csrf_in((await http.get(FORGOT)).text)
    return await http.post(RESET, data={"token": token, "password": password, "csrf_token": csrf})


async def _sign_in(app: Any, rt: Runtime, password: str) -> httpx.Response:
    return await post_form(_platform(app, rt), LOGIN, {"username": "ops", "password": password})


async def test_the_sign_in_page_offers_the_link(app: Any, rt: Runtime) -> None:
    page = await _platform(app, rt).get(LOGIN)
    assert f'href="{FORGOT}"' in page.text
    form = await _platform(app, rt).get(FORGOT)
    assert form.status_code == 200 and f'action="{FORGOT}"' in form.text


async def test_a_link_sets_a_new_password_once_ends_every_session_and_tells_the_operator(
    app: Any, rt: Runtime
) -> None:
    await make_operator(rt)
    elsewhere = _platform(app, rt)
    signed_in = await post_form(elsewhere, LOGIN, {"username": "ops", "password": PASSWORD})
    assert signed_in.status_code == 303
    assert (await elsewhere.get("/platform")).status_code == 200

    http = _platform(app, rt)
    mail = Mailbox(rt)
    asked = await _ask(http, "OPS")
    assert asked.status_code == 303 and asked.headers["location"] == LOGIN
    link = _link(mail)
    async with rt.database.reading() as db:  # only the token's digest is kept
        (stored,) = await db.scalars(select(OperatorPasswordReset.token_hash))
    assert stored == token_digest(link.split("token=")[1]) and stored not in link

    opened = await http.get(link)
    assert opened.status_code == 200 and f'action="{RESET}"' in opened.text
    mail = Mailbox(rt)
    done = await _reset(http, link, NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == LOGIN
    text = only(mail.new(), "Your password was reset")
    assert NEW_PASSWORD not in text
    assert (await elsewhere.get("/platform")).status_code == 303  # signed out there
    assert (await _sign_in(app, rt, PASSWORD)).status_code == 401
    assert (await _sign_in(app, rt, NEW_PASSWORD)).status_code == 303

    again = await _reset(http, link, "yet-another-password")
    assert again.status_code == 400 and "expired or was already used" in again.text
    assert (await _sign_in(app, rt, "yet-another-password")).status_code == 401


async def test_an_unknown_operator_gets_the_same_answer_and_no_mail(app: Any, rt: Runtime) -> None:
    await make_operator(rt)
    http = _platform(app, rt)
    mail = Mailbox(rt)
    unknown = await _ask(http, "nobody@example.org")
    assert mail.new() == []
    known = await _ask(http, OPERATOR_EMAIL.upper())
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == LOGIN
    after_known = await http.get(LOGIN)
    assert "If an account matches" in after_known.text
    assert len(mail.new()) == 1
    async with rt.database.reading() as db:
        assert len(list(await db.scalars(select(OperatorPasswordReset.id)))) == 1


async def test_an_expired_or_forged_link_is_refused_and_nothing_changes(
    app: Any, rt: Runtime
) -> None:
    http, link = await _operator_with_link(app, rt)
    async with rt.database.writing() as db:
        await db.execute(
            update(OperatorPasswordReset).values(expires_at=utcnow() - timedelta(minutes=1))
        )
        await db.commit()
    expired = await http.get(link)
    assert expired.status_code == 400 and f'href="{FORGOT}"' in expired.text
    assert (await _reset(http, link, NEW_PASSWORD)).status_code == 400
    forged = await _reset(http, f"{RESET}?token=not-a-real-token", NEW_PASSWORD)
    assert forged.status_code == 400 and "expired or was already used" in forged.text
    assert (await _sign_in(app, rt, NEW_PASSWORD)).status_code == 401
    assert (await _sign_in(app, rt, PASSWORD)).status_code == 303


async def test_a_common_new_password_is_refused_on_its_field_and_the_link_still_works(
    app: Any, rt: Runtime
) -> None:
    http, link = await _operator_with_link(app, rt)
    common = await _reset(http, link, "password123456")
    assert common.status_code == 422
    assert "common" in error_on(common, "password")
    assert (await http.get(link)).status_code == 200
    assert (await _sign_in(app, rt, PASSWORD)).status_code == 303


async def test_links_per_hour_are_limited(app: Any, rt: Runtime) -> None:
    await make_operator(rt)
    http = _platform(app, rt)
    mail = Mailbox(rt)
    for _ in range(5):
        assert (await _ask(http, "ops")).status_code == 303
    assert len(mail.new()) == 3


async def test_two_step_sign_in_is_still_asked_after_a_reset(app: Any, rt: Runtime) -> None:
    await make_operator(rt)
    ops = _platform(app, rt)
    await post_form(ops, LOGIN, {"username": "ops", "password": PASSWORD})
    secret, offer, csrf = await start_enrolment(ops, "/platform")
    turned_on = await ops.post(
        "/platform/account/security/confirm",
        data={"code": code(secret), "offer": offer, "csrf_token": csrf},
    )
    assert turned_on.status_code == 200
    mail = Mailbox(rt)
    await _ask(_platform(app, rt), "ops")
    assert (await _reset(_platform(app, rt), _link(mail), NEW_PASSWORD)).status_code == 303
    signed = await _sign_in(app, rt, NEW_PASSWORD)
    assert signed.status_code == 303
    assert signed.headers["location"].startswith("/platform/login/code")


async def test_a_clinic_site_does_not_answer_the_operators_pages(app: Any, clinic: Clinic) -> None:
    http = client_for(app, clinic.host)
    for path in (FORGOT, f"{RESET}?token=x"):
        assert (await http.get(path)).status_code == 404
    csrf = csrf_in((await http.get("/password/forgot")).text)
    for path in (FORGOT, RESET):
        answer = await http.post(path, data={"who": "ops", "token": "x", "csrf_token": csrf})
        assert answer.status_code == 404
