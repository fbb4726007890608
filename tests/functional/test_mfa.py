"""Two-step sign-in (TOTP): staff must set it up, then sign-in asks for a code (P23); codes
are single-use and guessing is slowed (P16); set-up changes end password-only sessions."""

from __future__ import annotations

import asyncio
import html
import re
import time
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from praxis.core.accounts.models import Operator, User, UserSession
from praxis.core.accounts.signin import WRONG_CODE
from praxis.core.crypto import token_digest
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.support import PASSWORD, Clinic, Person, csrf_in, login, make_operator, post_form

COOKIE = "praxis_session"
_SECRET = re.compile(r"<code>([A-Z2-7]{16,})</code>")
_OFFER = re.compile(r'name="offer" value="([^"]*)"')


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"STAFF_MFA_REQUIRED": True}


def shown_secret(page: str) -> str:
    found = _SECRET.search(page)
    assert found, "the page shows no secret"
    return found.group(1)


def offer_in(page: str) -> str:
    found = _OFFER.search(page)
    assert found, "the page has no set-up token"
    return html.unescape(found.group(1))


def code(secret: str, steps_ahead: int = 0) -> str:
    """What the authenticator app shows now (or ``steps_ahead`` periods of 30 s later)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def wrong_code(secret: str) -> str:
    """A code that is valid in none of the steps the server accepts."""
    valid = {code(secret, n) for n in (-2, -1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1000000, 7919)) if c not in valid)


async def start_enrolment(
    client: httpx.AsyncClient, prefix: str = "", password: str = PASSWORD
) -> tuple[str, str, str]:
    """Type the password and press "Set up two-step sign-in": (the secret shown, the form's
    token, its CSRF)."""
    page = await client.get(f"{prefix}/account/security")
    assert page.status_code == 200, page.text
    started = await client.post(
        f"{prefix}/account/security/start",
        data={"csrf_token": csrf_in(page.text), "current_password": password},
    )
    assert started.status_code == 200, started.text
    assert "otpauth://" in started.text or "<svg" in started.text
    return shown_secret(started.text), offer_in(started.text), csrf_in(started.text)


async def enrol(client: httpx.AsyncClient, prefix: str = "") -> str:
    """Set up two-step sign-in as a person would; returns the secret their app holds."""
    secret, offer, csrf = await start_enrolment(client, prefix)
    confirmed = await client.post(
        f"{prefix}/account/security/confirm",
        data={"code": code(secret), "offer": offer, "csrf_token": csrf},
    )
    # The first set-up shows the recovery codes; moving to a new device goes home.
    assert confirmed.status_code in (200, 303), confirmed.text
    if confirmed.status_code == 200:
        assert len(recovery_codes_in(confirmed.text)) == 10
    return secret


_RECOVERY = re.compile(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>")


def recovery_codes_in(page: str) -> list[str]:
    return _RECOVERY.findall(page)


async def give_code(
    client: httpx.AsyncClient, value: str, *, prefix: str = "", next_url: str = ""
) -> httpx.Response:
    path = f"{prefix}/login/code" + (f"?next={next_url}" if next_url else "")
    return await post_form(client, path, {"code": value})


async def account(rt: Runtime, clinic: Clinic, person: Person) -> User:
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.get(User, (clinic.tenant.id, person.id))
        assert found is not None
        return found


async def session_of(rt: Runtime, clinic: Clinic, token: str) -> UserSession | None:
    async with rt.database.reading(clinic.tenant.id) as db:
        query = select(UserSession).where(UserSession.token_hash == token_digest(token))
        return await db.scalar(query)


async def enrolled_admin(app: Any, clinic: Clinic) -> str:
    """The clinic admin with two-step sign-in on; returns the secret."""
    async with client_for(app, clinic.host) as setup:
        await login(setup, clinic.admin.username)
        return await enrol(setup)


# ---------------------------------------------------------------- staff must enrol


@pytest.mark.promise("P23")
@pytest.mark.parametrize(("who", "home"), [("admin", "/admin"), ("professional", "/workspace")])
async def test_staff_without_a_second_factor_must_set_one_up_first(
    client: httpx.AsyncClient, clinic: Clinic, who: str, home: str
) -> None:
    response = await login(client, getattr(clinic, who).username)
    assert response.headers["location"] == "/account/security"
    page = await client.get("/account/security")
    assert page.status_code == 200
    assert "Staff accounts must use it." in page.text
    assert "Set up two-step sign-in to continue" in page.text  # the notice

    for path in (
        home,
        "/account",
        f"{home}/appointments" if who == "admin" else "/workspace/hours",
    ):
        refused = await client.get(path)
        assert refused.status_code == 303, path
        assert refused.headers["location"] == "/account/security", path
    me = await client.get("/api/v1/me")
    assert me.status_code == 403
    assert me.json()["error"]["code"] == "second_factor_setup_required"


@pytest.mark.promise("P23")
async def test_consumers_are_not_forced_but_may_opt_in(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    response = await login(client, clinic.consumer.username)
    assert response.headers["location"] == "/appointments"
    assert (await client.get("/appointments")).status_code == 200
    assert (await client.get("/account")).status_code == 200
    page = await client.get("/account/security")
    assert "Staff accounts must use it." not in page.text

    secret = await enrol(client)
    assert (await account(rt, clinic, clinic.consumer)).totp_enabled_at is not None
    async with client_for(app, clinic.host) as phone:
        signed = await login(phone, clinic.consumer.username)
        assert signed.headers["location"] == "/login/code?next=/appointments"
        done = await give_code(phone, code(secret, 1), next_url="/appointments")
        assert done.headers["location"] == "/appointments"
        assert (await phone.get("/appointments")).status_code == 200


@pytest.mark.promise("P23")
@pytest.mark.parametrize("settings_overrides", [{"STAFF_MFA_REQUIRED": False}])
async def test_staff_are_not_forced_when_the_platform_turns_it_off(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    response = await login(client, clinic.admin.username)
    assert response.headers["location"] == "/admin"
    assert (await client.get("/admin")).status_code == 200


# ---------------------------------------------------------------- setting it up


@pytest.mark.promise("P23")
async def test_enrolment_turns_the_second_factor_on(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.admin.username)
    secret, offer, csrf = await start_enrolment(client)
    before = await account(rt, clinic, clinic.admin)
    assert before.totp_enabled_at is None and before.totp_secret is None  # nothing stored yet

    confirmed = await client.post(
        "/account/security/confirm",
        data={"code": code(secret), "offer": offer, "csrf_token": csrf},
    )
    # The first set-up answers with the recovery codes, shown this once.
    assert confirmed.status_code == 200
    assert "Two-step sign-in is on." in confirmed.text
    assert len(set(recovery_codes_in(confirmed.text))) == 10
    assert 'href="/account"' in confirmed.text

    stored = await account(rt, clinic, clinic.admin)
    assert stored.totp_enabled_at is not None
    assert stored.totp_secret is not None
    assert secret not in stored.totp_secret  # sealed at rest
    assert rt.authenticator.reveal(stored.totp_secret) == secret
    assert stored.totp_last_step is not None

    page = await client.get("/account")
    assert "Two-step sign-in</a>: on" in page.text
    assert (await client.get("/admin")).status_code == 200


@pytest.mark.promise("P23")
async def test_a_wrong_code_at_set_up_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.admin.username)
    secret, offer, csrf = await start_enrolment(client)
    for typed, message in (
        (wrong_code(secret), WRONG_CODE),
        ("12ab56", "Enter the 6-digit code from your authenticator app."),
        ("", "Enter the 6-digit code from your authenticator app."),
    ):
        refused = await client.post(
            "/account/security/confirm",
            data={"code": typed, "offer": offer, "csrf_token": csrf},
        )
        assert refused.status_code == 422  # the set-up page again, with the message
        assert html.unescape(refused.text).count(message) >= 1
        assert 'id="f-code-error"' in refused.text
        assert shown_secret(refused.text) == secret  # the same secret, to try again
        assert offer_in(refused.text) == offer
        csrf = csrf_in(refused.text)
    stored = await account(rt, clinic, clinic.admin)
    assert stored.totp_enabled_at is None and stored.totp_secret is None
    assert (await client.get("/admin")).headers["location"] == "/account/security"

    # A damaged set-up token starts over.
    restart = await client.post(
        "/account/security/confirm",
        data={"code": code(secret), "offer": offer[:-4] + "AAAA", "csrf_token": csrf},
    )
    assert restart.status_code == 303
    assert restart.headers["location"] == "/account/security"
    assert (await account(rt, clinic, clinic.admin)).totp_enabled_at is None


@pytest.mark.promise("P23")
async def test_a_set_up_token_of_one_account_is_useless_to_another(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.admin.username)
    secret, offer, _csrf = await start_enrolment(client)
    async with client_for(app, clinic.host) as pro:
        await login(pro, clinic.professional.username)
        page = await pro.get("/account/security")
        response = await pro.post(
            "/account/security/confirm",
            data={"code": code(secret), "offer": offer, "csrf_token": csrf_in(page.text)},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/account/security"
    assert (await account(rt, clinic, clinic.professional)).totp_enabled_at is None


@pytest.mark.promise("P23")
@pytest.mark.promise("P24")
async def test_setting_it_up_ends_the_sessions_that_had_only_the_password(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    """Someone who signed in with a stolen password before set-up is not promoted by it."""
    async with client_for(app, clinic.host) as intruder:
        await login(intruder, clinic.admin.username)
        stolen = intruder.cookies[COOKIE]
        await login(client, clinic.admin.username)
        await enrol(client)
        assert await session_of(rt, clinic, stolen) is None
        refused = await intruder.get("/admin")
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/login")
    assert (await client.get("/admin")).status_code == 200


# ---------------------------------------------------------------- signing in with it


@pytest.mark.promise("P23")
async def test_sign_in_asks_for_the_code_and_the_session_is_pending_until_then(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    secret = await enrolled_admin(app, clinic)

    response = await login(client, clinic.admin.username)
    assert response.headers["location"] == "/login/code?next=/admin"
    pending = client.cookies[COOKIE]
    row = await session_of(rt, clinic, pending)
    assert row is not None and row.mfa_pending

    for path in ("/admin", "/account", "/account/security", "/workspace"):
        held = await client.get(path)
        assert held.status_code == 303, path
        assert held.headers["location"] == "/login/code", path
    me = await client.get("/api/v1/me")
    assert me.status_code == 401
    assert me.json()["error"]["code"] == "second_factor_required"

    page = await client.get("/login/code?next=/admin")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.text

    wrong = await give_code(client, wrong_code(secret), next_url="/admin")
    assert wrong.status_code == 422
    assert f'id="f-code-error">{WRONG_CODE}' in html.unescape(wrong.text)
    assert (await client.get("/admin")).headers["location"] == "/login/code"

    done = await give_code(client, code(secret, 1), next_url="/admin")
    assert done.status_code == 303
    assert done.headers["location"] == "/admin"
    signed_in = client.cookies[COOKIE]
    assert signed_in != pending  # a fresh token once the second factor is given
    assert await session_of(rt, clinic, pending) is None
    row = await session_of(rt, clinic, signed_in)
    assert row is not None and not row.mfa_pending
    assert (await client.get("/admin")).status_code == 200
    assert (await client.get("/api/v1/me")).json()["username"] == clinic.admin.username


@pytest.mark.promise("P23")
async def test_a_code_cannot_be_used_twice(app: Any, clinic: Clinic) -> None:
    secret = await enrolled_admin(app, clinic)
    value = code(secret, 1)
    async with client_for(app, clinic.host) as first, client_for(app, clinic.host) as second:
        await login(first, clinic.admin.username)
        await login(second, clinic.admin.username)
        assert (await give_code(first, value)).status_code == 303
        replay = await give_code(second, value)
        assert replay.status_code == 422
        assert WRONG_CODE in html.unescape(replay.text)
        assert (await second.get("/admin")).headers["location"] == "/login/code"
        # Nor can an older code (the one used at set-up) be used now.
        assert (await give_code(second, code(secret))).status_code == 422


@pytest.mark.promise("P23")
async def test_two_sign_ins_racing_with_one_code_let_one_in(app: Any, clinic: Clinic) -> None:
    secret = await enrolled_admin(app, clinic)
    value = code(secret, 1)
    clients = [client_for(app, clinic.host) for _ in range(4)]
    try:
        for http in clients:
            await login(http, clinic.admin.username)
        tokens = [csrf_in((await http.get("/login/code")).text) for http in clients]
        responses = await asyncio.gather(
            *(
                http.post("/login/code", data={"code": value, "csrf_token": token})
                for http, token in zip(clients, tokens, strict=True)
            )
        )
        assert sorted(r.status_code for r in responses) == [303, 422, 422, 422]
    finally:
        for http in clients:
            await http.aclose()


@pytest.mark.promise("P16")
@pytest.mark.promise("P23")
async def test_guessing_codes_is_slowed(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    secret = await enrolled_admin(app, clinic)
    await login(client, clinic.admin.username)
    for _attempt in range(5):
        assert (await give_code(client, wrong_code(secret))).status_code == 422
    locked = await give_code(client, code(secret, 1))
    assert locked.status_code == 429
    assert "Too many wrong codes" in locked.text
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    assert (await client.get("/admin")).headers["location"] == "/login/code"
    # Signing in again with the password does not reset the count of wrong codes.
    async with client_for(app, clinic.host) as again:
        await login(again, clinic.admin.username)
        assert (await give_code(again, code(secret, 1))).status_code == 429
    # Other accounts are not affected.
    async with client_for(app, clinic.host) as other:
        await login(other, clinic.consumer.username)
        assert (await other.get("/appointments")).status_code == 200


@pytest.mark.promise("P23")
async def test_the_code_step_keeps_the_page_asked_for(
    app: Any, client: httpx.AsyncClient, clinic: Clinic
) -> None:
    secret = await enrolled_admin(app, clinic)
    wanted = "/admin/appointments?from=2030-01-01&to=2030-01-31"
    page = await client.get("/login", params={"next": wanted})
    response = await client.post(
        "/login",
        params={"next": wanted},
        data={
            "username": clinic.admin.username,
            "password": PASSWORD,
            "csrf_token": csrf_in(page.text),
        },
    )
    assert response.status_code == 303
    code_page = await client.get(response.headers["location"])
    form = re.search(r'<form method="post" action="(/login/code[^"]*)"', code_page.text)
    assert form is not None
    action = html.unescape(form.group(1))
    done = await client.post(
        action, data={"code": code(secret, 1), "csrf_token": csrf_in(code_page.text)}
    )
    assert done.status_code == 303
    assert done.headers["location"] == wanted


@pytest.mark.promise("P24")
async def test_a_pending_session_can_sign_out(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await enrolled_admin(app, clinic)
    await login(client, clinic.admin.username)
    pending = client.cookies[COOKIE]
    page = await client.get("/login/code")
    response = await client.post("/logout", data={"csrf_token": csrf_in(page.text)})
    assert response.status_code == 303
    assert await session_of(rt, clinic, pending) is None
    assert (await client.get("/login/code")).headers["location"] == "/login"


async def test_the_code_page_without_a_password_first_goes_to_sign_in(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    response = await client.get("/login/code")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


# ---------------------------------------------------------------- a new device


@pytest.mark.promise("P23")
async def test_an_abandoned_new_device_set_up_keeps_the_old_one(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.admin.username)
    old = await enrol(client)
    page = await client.get("/account/security")
    assert "Set up on a new device" in page.text
    new, _offer, _csrf = await start_enrolment(client)  # ... and never confirmed
    assert new != old

    stored = await account(rt, clinic, clinic.admin)
    assert stored.totp_enabled_at is not None
    assert rt.authenticator.reveal(stored.totp_secret or "") == old
    async with client_for(app, clinic.host) as later:
        response = await login(later, clinic.admin.username)
        assert response.headers["location"] == "/login/code?next=/admin"  # still asked
        assert (await give_code(later, code(new, 1))).status_code == 422
        assert (await give_code(later, code(old, 1))).status_code == 303


@pytest.mark.promise("P23")
async def test_moving_to_a_new_device_retires_the_old_one(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.admin.username)
    old = await enrol(client)
    new = await enrol(client)
    assert new != old
    stored = await account(rt, clinic, clinic.admin)
    assert rt.authenticator.reveal(stored.totp_secret or "") == new
    async with client_for(app, clinic.host) as later:
        await login(later, clinic.admin.username)
        assert (await give_code(later, code(old, 1))).status_code == 422
        assert (await give_code(later, code(new, 1))).status_code == 303


# ---------------------------------------------------------------- the API


@pytest.mark.promise("P23")
async def test_api_sign_in_of_staff_not_enrolled_says_enrol_first(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    person = clinic.admin
    body = {"username": person.username, "password": PASSWORD}
    refused = await client.post("/api/v1/auth/login", json=body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "second_factor_setup_required"
    assert person.username not in refused.text  # no profile
    assert COOKIE not in client.cookies
    async with rt.database.reading(clinic.tenant.id) as db:
        sessions = await db.scalars(select(UserSession).where(UserSession.user_id == person.id))
        assert list(sessions) == []  # no session at all, full or partial
    assert (await client.get("/api/v1/me")).status_code == 401


@pytest.mark.promise("P23")
async def test_api_sign_in_of_enrolled_staff_needs_the_code(
    app: Any, client: httpx.AsyncClient, clinic: Clinic
) -> None:
    secret = await enrolled_admin(app, clinic)
    body = {"username": clinic.admin.username, "password": PASSWORD}

    missing = await client.post("/api/v1/auth/login", json=body)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "second_factor_required"
    assert COOKIE not in client.cookies

    wrong = await client.post("/api/v1/auth/login", json={**body, "code": wrong_code(secret)})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["fields"] == {"code": WRONG_CODE}
    assert COOKIE not in client.cookies

    value = code(secret, 1)
    right = await client.post("/api/v1/auth/login", json={**body, "code": value})
    assert right.status_code == 200, right.text
    assert right.json()["username"] == clinic.admin.username
    assert (await client.get("/api/v1/me")).status_code == 200

    async with client_for(app, clinic.host) as replay:
        again = await replay.post("/api/v1/auth/login", json={**body, "code": value})
        assert again.status_code == 422


@pytest.mark.promise("P16")
@pytest.mark.promise("P23")
async def test_guessing_codes_through_the_api_is_slowed_too(
    app: Any, client: httpx.AsyncClient, clinic: Clinic
) -> None:
    secret = await enrolled_admin(app, clinic)
    body = {"username": clinic.admin.username, "password": PASSWORD}
    for _attempt in range(5):
        wrong = await client.post("/api/v1/auth/login", json={**body, "code": wrong_code(secret)})
        assert wrong.status_code == 422
    locked = await client.post("/api/v1/auth/login", json={**body, "code": code(secret, 1)})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    assert COOKIE not in client.cookies
    # The sign-in page counts the same wrong codes.
    async with client_for(app, clinic.host) as browser:
        await login(browser, clinic.admin.username)
        assert (await give_code(browser, code(secret, 1))).status_code == 429


# ---------------------------------------------------------------- the platform operator


@pytest.mark.promise("P23")
async def test_operator_must_enrol_and_then_give_a_code(app: Any, rt: Runtime) -> None:
    ops = await make_operator(rt)
    async with client_for(app, "localhost") as first:
        response = await login(first, ops.username, prefix="/platform")
        assert response.headers["location"] == "/platform/account/security"
        held = await first.get("/platform")
        assert held.status_code == 303
        assert held.headers["location"] == "/platform/account/security"

        secret = await enrol(first, prefix="/platform")
        assert (await first.get("/platform")).status_code == 200

    async with rt.database.reading() as db:
        stored = await db.get(Operator, ops.id)
        assert stored is not None and stored.totp_enabled_at is not None
        assert rt.authenticator.reveal(stored.totp_secret or "") == secret

    async with client_for(app, "localhost") as second:
        response = await login(second, ops.username, prefix="/platform")
        assert response.headers["location"] == "/platform/login/code?next=/platform"
        held = await second.get("/platform")
        assert held.headers["location"] == "/platform/login/code"
        wrong = await give_code(second, wrong_code(secret), prefix="/platform")
        assert wrong.status_code == 422
        assert WRONG_CODE in html.unescape(wrong.text)
        done = await give_code(second, code(secret, 1), prefix="/platform", next_url="/platform")
        assert done.status_code == 303
        assert done.headers["location"] == "/platform"
        assert (await second.get("/platform")).status_code == 200
