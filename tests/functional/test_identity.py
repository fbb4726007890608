"""Identity hardening (issue 11): a stolen session cannot change how the account signs in
without the password; a signed-in password change; one-time recovery codes; common and
breached passwords refused; each change told by email and kept in the security log."""

from __future__ import annotations

import html
import re
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core.accounts import alerts, common_passwords, reauth, recovery
from praxis.core.accounts.mfa import OFFER_SECONDS
from praxis.core.accounts.models import Operator, User
from praxis.core.accounts.password_change import SAME
from praxis.core.accounts.security_log import SecurityEvent
from praxis.core.outbox import OutboxJob
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.test_mfa import (
    COOKIE,
    account,
    code,
    enrol,
    give_code,
    recovery_codes_in,
    start_enrolment,
)
from tests.provider_fixtures import Providers
from tests.support import PASSWORD, Clinic, csrf_in, login, make_operator, post_form

NEW = "plum-kettle-orbit-violin"


def thief_of(app: Any, clinic: Clinic, victim: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another browser holding a copy of the victim's session cookie."""
    thief = client_for(app, clinic.host)
    thief.cookies.set(COOKIE, victim.cookies[COOKIE])
    return thief


async def kinds(rt: Runtime, clinic: Clinic, user_id: Any) -> list[str]:
    async with rt.database.reading(clinic.tenant.id) as db:
        query = select(SecurityEvent).where(SecurityEvent.user_id == user_id)
        return [e.kind for e in await db.scalars(query.order_by(SecurityEvent.at))]


async def alerts_queued(rt: Runtime, clinic: Clinic) -> list[str]:
    async with rt.database.reading(clinic.tenant.id) as db:
        query = select(OutboxJob).where(OutboxJob.topic == alerts.TOPIC)
        return [job.payload["change"] for job in await db.scalars(query)]


def error_on(page: httpx.Response, name: str) -> str:
    assert f'id="f-{name}-error"' in page.text, page.text
    start = page.text.index(f'id="f-{name}-error">') + len(f'id="f-{name}-error">')
    return html.unescape(page.text[start : page.text.index("</p>", start)])


async def change_password(
    client: httpx.AsyncClient, current: str, new: str, *, prefix: str = ""
) -> httpx.Response:
    data = {"current_password": current, "new_password": new}
    return await post_form(client, f"{prefix}/account/password", data)


async def sign_in_with(app: Any, clinic: Clinic, username: str, password: str) -> int:
    async with client_for(app, clinic.host) as fresh:
        form = {"username": username, "password": password}
        return (await post_form(fresh, "/login", form)).status_code


# ---------------------------------------------------------------- the attack, repeated


@pytest.mark.promise("P23")
async def test_a_stolen_session_cannot_replace_the_authenticator(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    """The issue's attack: with only the session, start a new set-up and confirm a code from
    a secret of the attacker's. Now the password is asked first; the owner stays signed in."""
    victim = client_for(app, clinic.host)
    await login(victim, clinic.admin.username)
    secret = await enrol(victim)
    thief = thief_of(app, clinic, victim)
    before = await account(rt, clinic, clinic.admin)

    page = await thief.get("/account/security")
    assert page.status_code == 200 and 'name="current_password"' in page.text
    for typed, message in (("", reauth.NEEDED), ("a-guess-at-the-password", reauth.WRONG)):
        refused = await thief.post(
            "/account/security/start",
            data={"csrf_token": csrf_in(page.text), "current_password": typed},
        )
        assert refused.status_code == 422
        assert error_on(refused, "current_password") == message
        assert "otpauth://" not in refused.text and 'name="offer"' not in refused.text
    # Without a set-up token from the password step, no code confirms anything.
    forged = await thief.post(
        "/account/security/confirm",
        data={"code": "123456", "offer": "", "csrf_token": csrf_in(page.text)},
    )
    assert forged.status_code == 303 and forged.headers["location"] == "/account/security"

    after = await account(rt, clinic, clinic.admin)
    assert after.totp_secret == before.totp_secret
    assert rt.authenticator.reveal(after.totp_secret or "") == secret
    assert (await victim.get("/account")).status_code == 200  # the owner was not signed out
    assert "reauth_failed" in await kinds(rt, clinic, clinic.admin.id)


async def test_a_stolen_session_cannot_change_the_password(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    victim = client_for(app, clinic.host)
    await login(victim, clinic.consumer.username)
    thief = thief_of(app, clinic, victim)
    stored = (await account(rt, clinic, clinic.consumer)).password_hash

    for current, message in (("", reauth.NEEDED), ("not-the-password", reauth.WRONG)):
        refused = await change_password(thief, current, NEW)
        assert refused.status_code == 422
        assert error_on(refused, "current_password") == message
    assert (await account(rt, clinic, clinic.consumer)).password_hash == stored
    assert (await victim.get("/account")).status_code == 200
    assert await sign_in_with(app, clinic, clinic.consumer.username, PASSWORD) == 303
    assert await alerts_queued(rt, clinic) == []


async def test_a_stolen_session_cannot_change_the_email_or_phone(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    victim = client_for(app, clinic.host)
    await login(victim, clinic.consumer.username)
    thief = thief_of(app, clinic, victim)
    page = await thief.get("/account/details")
    fields = {
        name: html.unescape(value)
        for name, value in (
            (n, page.text.split(f'name="{n}"', 1)[1].split('value="', 1)[1].split('"', 1)[0])
            for n in ("full_name", "email", "phone", "address_line1", "town", "postcode")
        )
    }
    for change in ({"email": "thief@example.net"}, {"phone": "+447700900999"}):
        refused = await post_form(thief, "/account/details", fields | change)
        assert refused.status_code == 422
        assert "current_password" in refused.text
    person = await account(rt, clinic, clinic.consumer)
    assert person.email == f"{clinic.consumer.username}@example.org"


@pytest.mark.promise("P16")
async def test_guessing_the_password_through_a_session_is_slowed(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    """Five wrong passwords, then even the right one waits: the session buys no guesses."""
    victim = client_for(app, clinic.host)
    await login(victim, clinic.consumer.username)
    for n in range(5):
        refused = await change_password(victim, f"guess-number-{n}", NEW)
        assert refused.status_code == 422
    slowed = await change_password(victim, PASSWORD, NEW)
    assert slowed.status_code == 429 and "Retry-After" in slowed.headers
    assert "Too many wrong passwords" in error_on(slowed, "current_password")
    assert await sign_in_with(app, clinic, clinic.consumer.username, PASSWORD) == 303
    assert (await kinds(rt, clinic, clinic.consumer.id)).count("reauth_failed") == 5


async def test_a_set_up_token_expires(app: Any, rt: Runtime, clinic: Clinic) -> None:
    """The token carrying a new secret is good for a while after the password, not forever."""
    client = client_for(app, clinic.host)
    await login(client, clinic.admin.username)
    secret, _offer, csrf = await start_enrolment(client)
    sealer = rt.keyring._fernet(f"totp-offer:{clinic.admin.id}")  # as offer() seals, but older
    stale = sealer.encrypt_at_time(secret.encode(), int(time.time()) - OFFER_SECONDS - 60)
    refused = await client.post(
        "/account/security/confirm",
        data={"code": code(secret), "offer": stale.decode(), "csrf_token": csrf},
    )
    assert refused.status_code == 303 and refused.headers["location"] == "/account/security"
    assert (await account(rt, clinic, clinic.admin)).totp_enabled_at is None


# ---------------------------------------------------------------- changing the password


async def test_changing_the_password_ends_the_other_sessions_and_tells_the_person(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    elsewhere = client_for(app, clinic.host)
    await login(elsewhere, clinic.consumer.username)
    client = client_for(app, clinic.host)
    await login(client, clinic.consumer.username)
    page = await client.get("/account")
    assert 'href="/account/password"' in page.text

    done = await change_password(client, PASSWORD, NEW)
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert (await client.get("/account")).status_code == 200  # this one carries on
    assert (await elsewhere.get("/account")).status_code == 303  # signed out there
    assert await sign_in_with(app, clinic, clinic.consumer.username, PASSWORD) == 401
    assert await sign_in_with(app, clinic, clinic.consumer.username, NEW) == 303
    assert "password_changed" in await kinds(rt, clinic, clinic.consumer.id)

    assert await providers.run_jobs() >= 1
    mail = providers.mails()[-1]
    assert mail["To"] == f"{clinic.consumer.username}@example.org"
    assert mail["Subject"] == "Your password was changed"
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert NEW not in body and PASSWORD not in body


@pytest.mark.parametrize(
    ("current", "new", "field", "message"),
    [
        ("wrong-password-typed", NEW, "current_password", reauth.WRONG),
        (PASSWORD, "qwertyuiop", "new_password", common_passwords.TOO_COMMON),
        (PASSWORD, "Password123!", "new_password", common_passwords.TOO_EASY),
        (PASSWORD, "short", "new_password", "Use at least 10 characters."),
        (PASSWORD, "", "new_password", "This field is required."),
        (PASSWORD, PASSWORD, "new_password", SAME),
    ],
)
async def test_a_bad_password_change_is_refused_on_its_field_and_nothing_saved(
    app: Any, rt: Runtime, clinic: Clinic, current: str, new: str, field: str, message: str
) -> None:
    client = client_for(app, clinic.host)
    await login(client, clinic.consumer.username)
    stored = (await account(rt, clinic, clinic.consumer)).password_hash
    refused = await change_password(client, current, new)
    assert refused.status_code == 422
    assert error_on(refused, field) == message
    assert new not in refused.text or new == ""  # what was typed is not shown again
    assert (await account(rt, clinic, clinic.consumer)).password_hash == stored
    assert "password_changed" not in await kinds(rt, clinic, clinic.consumer.id)
    assert await alerts_queued(rt, clinic) == []


async def test_an_operator_changes_their_password_with_the_current_one(
    app: Any, rt: Runtime
) -> None:
    await make_operator(rt)
    async with client_for(app, "localhost") as ops:
        await login(ops, "ops", prefix="/platform")
        refused = await change_password(ops, "not-my-password", NEW, prefix="/platform")
        assert refused.status_code == 422
        assert error_on(refused, "current_password") == reauth.WRONG
        done = await change_password(ops, PASSWORD, NEW, prefix="/platform")
        assert done.status_code == 303 and done.headers["location"] == "/platform"
    async with rt.database.reading() as db:
        operator = await db.scalar(select(Operator).where(Operator.username == "ops"))
        assert operator is not None and rt.passwords.verify(operator.password_hash, NEW)


# ---------------------------------------------------------------- recovery codes


async def test_a_recovery_code_signs_in_once_instead_of_the_app(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    setup = client_for(app, clinic.host)
    await login(setup, clinic.admin.username)
    secret, offer, csrf = await start_enrolment(setup)
    shown = await setup.post(
        "/account/security/confirm",
        data={"code": code(secret), "offer": offer, "csrf_token": csrf},
    )
    codes = recovery_codes_in(shown.text)
    assert len(set(codes)) == recovery.COUNT
    stored = (await account(rt, clinic, clinic.admin)).recovery_codes or ""
    assert all(c not in stored and c.replace("-", "") not in stored for c in codes)  # digests
    assert "10</strong> codes left" in (await setup.get("/account/security")).text

    async with client_for(app, clinic.host) as phone_lost:
        await login(phone_lost, clinic.admin.username)
        used = await give_code(phone_lost, codes[0].upper())  # as typed from paper
        assert used.status_code == 303
        assert (await phone_lost.get("/admin")).status_code == 200
    async with client_for(app, clinic.host) as again:
        await login(again, clinic.admin.username)
        refused = await give_code(again, codes[0])
        assert refused.status_code == 422
        assert (await again.get("/admin")).status_code == 303  # still half signed in
    assert "9</strong> codes left" in (await setup.get("/account/security")).text
    logged = await kinds(rt, clinic, clinic.admin.id)
    assert logged.count("recovery_code_used") == 1 and "two_step_code_wrong" in logged

    await providers.run_jobs()
    subjects = [m["Subject"] for m in providers.mails()]
    assert "A recovery code was used to sign in" in subjects
    assert "Two-step sign-in was turned on" in subjects
    told = next(m for m in providers.mails() if m["Subject"].startswith("A recovery"))
    assert "9 codes are left." in told.get_payload(decode=True).decode()  # type: ignore[union-attr]


async def test_the_api_takes_a_recovery_code_once_too(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    setup = client_for(app, clinic.host)
    await login(setup, clinic.admin.username)
    secret, offer, csrf = await start_enrolment(setup)
    shown = await setup.post(
        "/account/security/confirm",
        data={"code": code(secret), "offer": offer, "csrf_token": csrf},
    )
    codes = recovery_codes_in(shown.text)
    body = {"username": clinic.admin.username, "password": PASSWORD, "code": codes[0]}
    async with client_for(app, clinic.host) as api:
        assert (await api.post("/api/v1/auth/login", json=body)).status_code == 200
    async with client_for(app, clinic.host) as again:
        refused = await again.post("/api/v1/auth/login", json=body)
        assert refused.status_code == 422, refused.text
    assert (await kinds(rt, clinic, clinic.admin.id)).count("recovery_code_used") == 1


async def test_new_recovery_codes_need_the_password_and_replace_the_old(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    client = client_for(app, clinic.host)
    await login(client, clinic.admin.username)
    secret, offer, csrf = await start_enrolment(client)
    first = recovery_codes_in(
        (
            await client.post(
                "/account/security/confirm",
                data={"code": code(secret), "offer": offer, "csrf_token": csrf},
            )
        ).text
    )
    before = (await account(rt, clinic, clinic.admin)).recovery_codes

    refused = await post_form(
        client,
        "/account/security/recovery",
        {"current_password": "wrong-one-typed"},
        page="/account/security",
    )
    assert refused.status_code == 422
    assert error_on(refused, "current_password") == reauth.WRONG
    assert (await account(rt, clinic, clinic.admin)).recovery_codes == before

    made = await post_form(
        client,
        "/account/security/recovery",
        {"current_password": PASSWORD},
        page="/account/security",
    )
    assert made.status_code == 200
    second = recovery_codes_in(made.text)
    assert len(second) == recovery.COUNT and not set(first) & set(second)
    assert "recovery_codes_made" in await kinds(rt, clinic, clinic.admin.id)
    assert "recovery_codes_made" in await alerts_queued(rt, clinic)

    async with client_for(app, clinic.host) as old:
        await login(old, clinic.admin.username)
        assert (await give_code(old, first[0])).status_code == 422
        assert (await give_code(old, second[0])).status_code == 303


async def test_moving_to_a_new_device_keeps_the_recovery_codes(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    client = client_for(app, clinic.host)
    await login(client, clinic.admin.username)
    await enrol(client)
    kept = (await account(rt, clinic, clinic.admin)).recovery_codes
    secret, offer, csrf = await start_enrolment(client)
    moved = await client.post(
        "/account/security/confirm",
        data={"code": code(secret), "offer": offer, "csrf_token": csrf},
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/account"
    assert (await account(rt, clinic, clinic.admin)).recovery_codes == kept
    assert await alerts_queued(rt, clinic) == ["two_step_enrolled", "two_step_replaced"]


async def test_an_operator_can_sign_in_with_a_recovery_code(app: Any, rt: Runtime) -> None:
    await make_operator(rt)
    async with client_for(app, "localhost") as ops:
        await login(ops, "ops", prefix="/platform")
        secret, offer, csrf = await start_enrolment(ops, "/platform")
        shown = await ops.post(
            "/platform/account/security/confirm",
            data={"code": code(secret), "offer": offer, "csrf_token": csrf},
        )
        codes = recovery_codes_in(shown.text)
    async with client_for(app, "localhost") as ops:
        await login(ops, "ops", prefix="/platform")
        assert (await give_code(ops, codes[3], prefix="/platform")).status_code == 303
        assert (await ops.get("/platform")).status_code == 200


async def test_two_sign_ins_racing_with_one_recovery_code_let_one_in(
    rt: Runtime, clinic: Clinic
) -> None:
    """Both read the account before either spent the code: only the first passes."""
    async with rt.database.writing(clinic.tenant.id) as db:
        user = await db.get(User, (clinic.tenant.id, clinic.admin.id))
        assert user is not None
        codes = recovery.make(user)
        await db.commit()
    copies = []
    for _ in range(2):
        async with rt.database.reading(clinic.tenant.id) as db:
            copies.append(await db.get(User, (clinic.tenant.id, clinic.admin.id)))
    passed = []
    for copy in copies:
        assert copy is not None
        async with rt.database.writing(clinic.tenant.id) as db:
            passed.append(await recovery.use(db, copy, codes[0]))
            await db.commit()
    assert passed == [True, False]
    async with rt.database.reading(clinic.tenant.id) as db:
        user = await db.get(User, (clinic.tenant.id, clinic.admin.id))
        assert user is not None and recovery.remaining(user) == recovery.COUNT - 1


def test_recovery_codes_look_unlike_app_codes() -> None:
    assert not recovery.looks_like("123456")
    assert recovery.looks_like("ABCD-EFGH-JKMN-PQRS") and recovery.looks_like("abcdefghjkmnpqrs")
    assert not recovery.looks_like("abcd-efgh-jkmn-pqr0")  # 0 is never in a code


# ---------------------------------------------------------------- common passwords


@pytest.mark.parametrize("weak", ["qwertyuiop", "1234567890", "Password123!", "iloveyou12"])
def test_common_and_breached_passwords_have_a_reason(weak: str) -> None:
    assert common_passwords.problem(weak) is not None


@pytest.mark.parametrize("fine", [PASSWORD, NEW, "demo-consumer-pass"])
def test_unusual_passwords_pass(fine: str) -> None:
    assert common_passwords.problem(fine) is None


async def test_registration_refuses_a_breached_password(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    from tests.support import person_fields

    client = client_for(app, clinic.host)
    fields = person_fields("newcomer") | {"password": "qwertyuiop"}
    refused = await post_form(client, "/register", fields)
    assert refused.status_code == 422
    assert error_on(refused, "password") == common_passwords.TOO_COMMON
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await db.scalar(select(User).where(User.username == "newcomer")) is None


async def test_the_security_log_page_names_the_new_events(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = client_for(app, clinic.host)
    await login(admin, clinic.admin.username)
    assert (await change_password(admin, "not-the-password", NEW)).status_code == 422
    assert (await change_password(admin, PASSWORD, NEW)).status_code == 303
    secret, offer, csrf = await start_enrolment(admin, password=NEW)
    confirmed = await admin.post(
        "/account/security/confirm",
        data={"code": code(secret), "offer": offer, "csrf_token": csrf},
    )
    made = await admin.post(
        "/account/security/recovery",
        data={"current_password": NEW, "csrf_token": csrf_in(confirmed.text)},
    )
    assert made.status_code == 200
    page = await admin.get(f"/admin/security?account={clinic.admin.username}")
    for words in (
        "Wrong password when confirming a change",
        "Password changed (other devices signed out)",
        "Two-step sign-in set up",
        "Recovery codes made (old ones stop working)",
    ):
        assert words in html.unescape(page.text), words


async def test_the_new_pages_give_each_element_its_own_id(app: Any, clinic: Clinic) -> None:
    """A label points at one field: two forms sharing a field's id would confuse both."""
    client = client_for(app, clinic.host)
    await login(client, clinic.admin.username)
    pages = [await client.get("/account/security"), await client.get("/account/password")]
    secret, offer, csrf = await start_enrolment(client)
    pages.append(
        await client.post(
            "/account/security/confirm",
            data={"code": code(secret), "offer": offer, "csrf_token": csrf},
        )
    )
    pages.append(await client.get("/account/security"))
    for page in pages:
        ids = re.findall(r'\sid="([^"]+)"', page.text)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


async def test_the_reset_link_refuses_a_breached_password_and_stays_usable(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = client_for(app, clinic.host)
    await post_form(client, "/password/forgot", {"who": clinic.consumer.username})
    await providers.run_jobs()
    body = providers.mails()[-1].get_payload(decode=True).decode()  # type: ignore[union-attr]
    token = re.search(r"token=([\w-]+)", body).group(1)  # type: ignore[union-attr]
    form = await client.get(f"/password/reset?token={token}")
    stored = (await account(rt, clinic, clinic.consumer)).password_hash
    for weak, message in (
        ("1234567890", common_passwords.TOO_COMMON),
        ("Password123!", common_passwords.TOO_EASY),
    ):
        refused = await client.post(
            "/password/reset",
            data={"token": token, "password": weak, "csrf_token": csrf_in(form.text)},
        )
        assert refused.status_code == 422
        assert error_on(refused, "password") == message
    assert (await account(rt, clinic, clinic.consumer)).password_hash == stored
    done = await client.post(
        "/password/reset",
        data={"token": token, "password": NEW, "csrf_token": csrf_in(form.text)},
    )
    assert done.status_code == 303
    assert "password_reset" in await alerts_queued(rt, clinic)
