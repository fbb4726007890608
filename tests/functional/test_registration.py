"""Consumer registration through the portal form and the API (P01), and how passwords and
usernames are kept (P23)."""

from __future__ import annotations

import asyncio
import html
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from praxis.core.accounts.models import User, UserSession
from praxis.core.crypto import token_digest
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.support import PASSWORD, Clinic, csrf_in, login, person_fields, post_form

TAKEN = "That username is taken; choose another."
REQUIRED = "This field is required."

# (field, what is typed, the message shown beside that field)
BAD_FIELDS = [
    ("full_name", "", REQUIRED),
    (
        "username",
        "bad name!",
        "Use 3 to 32 characters: lower-case letters, digits, dots, hyphens or underscores, "
        "starting with a letter or digit.",
    ),
    ("username", "ab", "Use 3 to 32 characters"),
    ("email", "not-an-email", "Enter an email address like name@example.com."),
    ("email", "someone@", "Enter an email address like name@example.com."),
    ("phone", "12345", "That phone number is not valid; check the digits and country code."),
    ("phone", "call me", "Enter a phone number, like 07911 123456 or +44 7911 123456."),
    ("postcode", "12345", "Enter a UK postcode, like SW1A 1AA."),
    ("password", "short-pw", "Use at least 10 characters."),
    ("password", "aaaaaaaaaaaa", "Use a less predictable password"),
    ("address_line1", "", REQUIRED),
    ("town", "", REQUIRED),
]


async def users_of(rt: Runtime, clinic: Clinic) -> dict[str, User]:
    """Every account of the clinic, by username, read straight from the database."""
    async with rt.database.reading(clinic.tenant.id) as db:
        return {u.username: u for u in (await db.scalars(select(User))).all()}


async def snapshot(rt: Runtime, clinic: Clinic) -> dict[str, tuple[Any, ...]]:
    """What is stored of each account, to compare before and after."""
    return {
        name: (u.id, u.role, u.email, u.phone, u.postcode, u.password_hash)
        for name, u in (await users_of(rt, clinic)).items()
    }


async def count_users(rt: Runtime, clinic: Clinic) -> int:
    async with rt.database.reading(clinic.tenant.id) as db:
        return int(await db.scalar(select(func.count()).select_from(User)) or 0)


def field_error(page: str, name: str) -> str | None:
    """The message shown next to one field of a re-shown form."""
    marker = f'<p class="error" id="f-{name}-error">'
    start = page.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return html.unescape(page[start : page.index("</p>", start)])


def typed_value(page: str, name: str) -> str | None:
    """The value an input of the re-shown form holds."""
    start = page.find(f'name="{name}"')
    if start < 0:
        return None
    end = page.index(">", start)
    tag = page[start:end]
    if 'value="' not in tag:
        return None
    value = tag.split('value="', 1)[1].split('"', 1)[0]
    return html.unescape(value)


# ---------------------------------------------------------------- the portal form


@pytest.mark.promise("P01")
async def test_register_creates_account_signs_in_and_normalises(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    before = await count_users(rt, clinic)
    response = await post_form(
        client,
        "/register",
        person_fields(
            "New.Person",
            full_name="  New Person  ",
            email="  New.Person@EXAMPLE.org ",
            phone="07911 123456",
            postcode="n1  1aa",
        ),
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/professionals"

    accounts = await users_of(rt, clinic)
    assert len(accounts) == before + 1
    user = accounts["new.person"]
    assert user.role == "consumer"
    assert user.full_name == "New Person"
    assert user.phone == "+447911123456"
    assert user.email == "New.Person@example.org"
    assert user.postcode == "N1 1AA"
    assert user.is_active

    # Signed in straight away: the account page is theirs.
    page = await client.get("/account")
    assert page.status_code == 200
    assert "new.person" in page.text
    assert "+447911123456" in page.text
    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "new.person"


@pytest.mark.promise("P01")
async def test_register_keeps_a_safe_next_page(client: httpx.AsyncClient, clinic: Clinic) -> None:
    shown = await client.get("/register?next=/appointments")
    token = csrf_in(shown.text)
    response = await client.post(
        "/register?next=/appointments",
        data={**person_fields("with.next"), "csrf_token": token},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/appointments"

    shown = await client.get("/register?next=//evil.example/")
    response = await client.post(
        "/register?next=//evil.example/",
        data={**person_fields("no.open.redirect"), "csrf_token": csrf_in(shown.text)},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/professionals"


@pytest.mark.promise("P01")
@pytest.mark.parametrize(("name", "typed", "message"), BAD_FIELDS)
async def test_register_form_bad_field_says_why_and_saves_nothing(
    client: httpx.AsyncClient,
    clinic: Clinic,
    rt: Runtime,
    name: str,
    typed: str,
    message: str,
) -> None:
    before = await snapshot(rt, clinic)
    fields = person_fields("fresh.person", full_name="Fresh Person") | {name: typed}
    response = await post_form(client, "/register", fields)

    assert response.status_code == 422
    shown = field_error(response.text, name)
    assert shown is not None, f"no message next to {name}"
    assert shown.startswith(message)
    assert "Please correct the fields marked below; nothing was saved." in response.text
    # Only the bad field is marked.
    others = [f for f in ("full_name", "username", "email", "phone", "postcode") if f != name]
    assert all(field_error(response.text, f) is None for f in others)
    # What was typed stays in the form, except the password, which is never sent back.
    for kept in ("full_name", "username", "email", "phone", "address_line1", "town", "postcode"):
        assert typed_value(response.text, kept) == fields[kept].strip() or kept == name
    assert typed_value(response.text, "password") is None
    assert fields["password"] not in response.text
    # Nothing saved, and nobody signed in.
    assert await snapshot(rt, clinic) == before
    assert (await client.get("/account")).status_code == 303


@pytest.mark.promise("P01")
async def test_register_form_with_many_bad_fields_marks_each(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    before = await count_users(rt, clinic)
    response = await post_form(
        client,
        "/register",
        {"username": "Bad Name!", "email": "nope", "phone": "nope", "password": "x"},
    )
    assert response.status_code == 422
    for name in ("full_name", "username", "email", "phone", "address_line1", "town", "postcode"):
        assert field_error(response.text, name), name
    assert field_error(response.text, "password") == "Use at least 10 characters."
    assert typed_value(response.text, "username") == "Bad Name!"
    assert await count_users(rt, clinic) == before


@pytest.mark.promise("P01")
@pytest.mark.promise("P23")
async def test_register_form_refuses_a_taken_username_in_any_case(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    before = await users_of(rt, clinic)
    existing = before[clinic.consumer.username]
    response = await post_form(
        client, "/register", person_fields("Alpha.Consumer", email="someone.else@example.org")
    )
    assert response.status_code == 422
    assert field_error(response.text, "username") == TAKEN
    assert typed_value(response.text, "email") == "someone.else@example.org"
    after = await users_of(rt, clinic)
    assert after.keys() == before.keys()
    assert after[clinic.consumer.username].email == existing.email


@pytest.mark.promise("P01")
async def test_same_username_is_fine_in_another_clinic(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, other_clinic: Clinic, rt: Runtime
) -> None:
    name = clinic.consumer.username  # alpha.consumer, taken at alpha only
    async with (
        client_for(app, other_clinic.host) as beta,
        client_for(app, other_clinic.host) as beta_api,
    ):
        response = await post_form(beta, "/register", person_fields(name.upper()))
        assert response.status_code == 303, response.text
        api = await beta_api.post(
            "/api/v1/consumers", json=person_fields(clinic.professional.username)
        )
        assert api.status_code == 201, api.text
    beta_users = await users_of(rt, other_clinic)
    assert name in beta_users
    assert clinic.professional.username in beta_users
    alpha_users = await users_of(rt, clinic)
    assert beta_users[name].id != alpha_users[name].id
    # The alpha account is untouched, and still the one that signs in at alpha.
    assert alpha_users[name].email == f"{name}@example.org"
    signed = await client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert signed.json()["id"] == str(alpha_users[name].id)


@pytest.mark.promise("P01")
@pytest.mark.promise("P23")
async def test_concurrent_registrations_of_one_username_create_one_account(
    app: Any, clinic: Clinic, rt: Runtime
) -> None:
    before = await count_users(rt, clinic)

    async def attempt(n: int) -> httpx.Response:
        async with client_for(app, clinic.host) as http:
            body = person_fields("Race.Winner" if n % 2 else "race.winner")
            body["email"] = f"racer{n}@example.org"
            return await http.post("/api/v1/consumers", json=body)

    responses = await asyncio.gather(*(attempt(n) for n in range(6)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 422, 422, 422, 422, 422], [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 422):
        assert refused.json()["error"]["fields"] == {"username": TAKEN}
    assert await count_users(rt, clinic) == before + 1
    winner = next(r for r in responses if r.status_code == 201).json()
    accounts = await users_of(rt, clinic)
    assert accounts["race.winner"].email == winner["email"]


@pytest.mark.promise("P01")
async def test_concurrent_form_registrations_of_one_username_create_one_account(
    app: Any, clinic: Clinic, rt: Runtime
) -> None:
    before = await count_users(rt, clinic)

    async def attempt(n: int) -> int:
        async with client_for(app, clinic.host) as http:
            body = person_fields("form.racer", email=f"form{n}@example.org")
            return (await post_form(http, "/register", body)).status_code

    statuses = sorted(await asyncio.gather(*(attempt(n) for n in range(4))))
    assert statuses == [303, 422, 422, 422]
    assert await count_users(rt, clinic) == before + 1


@pytest.mark.promise("P01")
@pytest.mark.promise("P24")
async def test_registering_while_signed_in_ends_the_old_session(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.consumer.username)
    old = client.cookies["praxis_session"]
    response = await post_form(client, "/register", person_fields("second.account"))
    assert response.status_code == 303
    assert client.cookies["praxis_session"] != old
    async with rt.database.reading(clinic.tenant.id) as db:
        rows = await db.scalar(
            select(func.count())
            .select_from(UserSession)
            .where(UserSession.token_hash == token_digest(old))
        )
    assert rows == 0
    async with client_for(app, clinic.host) as thief:
        replay = await thief.get("/api/v1/me", headers={"Cookie": f"praxis_session={old}"})
        assert replay.status_code == 401
    assert (await client.get("/api/v1/me")).json()["username"] == "second.account"


# ---------------------------------------------------------------- the API


@pytest.mark.promise("P01")
async def test_api_registration_creates_signs_in_and_normalises(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    before = await count_users(rt, clinic)
    body = person_fields(
        "Api.Person",
        email="Api.Person@Example.ORG",
        phone="+44 (0)7911-123456",
        postcode="sw1a1aa",
        address_line2="Flat 2",
    )
    response = await client.post("/api/v1/consumers", json=body)
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["username"] == "api.person"
    assert out["role"] == "consumer"
    assert out["phone"] == "+447911123456"
    assert out["email"] == "Api.Person@example.org"
    assert out["address"] == {
        "line1": "1 High Street",
        "line2": "Flat 2",
        "town": "London",
        "postcode": "SW1A 1AA",
        "country": "GB",
    }
    assert "password" not in response.text and PASSWORD not in response.text
    assert await count_users(rt, clinic) == before + 1
    stored = (await users_of(rt, clinic))["api.person"]
    assert stored.phone == "+447911123456"
    assert str(stored.id) == out["id"]

    # The session cookie was set and the CSRF token given works for the next POST.
    me = await client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["id"] == out["id"]
    logout = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": out["csrf_token"]})
    assert logout.status_code == 200


@pytest.mark.promise("P01")
@pytest.mark.parametrize(("name", "typed", "message"), BAD_FIELDS)
async def test_api_registration_bad_field_says_why_and_saves_nothing(
    client: httpx.AsyncClient,
    clinic: Clinic,
    rt: Runtime,
    name: str,
    typed: str,
    message: str,
) -> None:
    before = await snapshot(rt, clinic)
    body = person_fields("fresh.api") | {name: typed}
    response = await client.post("/api/v1/consumers", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["message"] == "Please correct the fields marked below; nothing was saved."
    assert list(error["fields"]) == [name]
    assert error["fields"][name].startswith(message)
    if name == "password":
        assert typed not in response.text
    assert await snapshot(rt, clinic) == before
    assert "praxis_session" not in response.headers.get("set-cookie", "")


@pytest.mark.promise("P01")
async def test_api_registration_missing_fields_and_wrong_types(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    before = await count_users(rt, clinic)
    response = await client.post("/api/v1/consumers", json={"username": "only.me"})
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    for name in ("full_name", "email", "phone", "address_line1", "town", "postcode", "password"):
        assert fields[name] == REQUIRED, name
    assert "username" not in fields

    wrong = await client.post("/api/v1/consumers", json=person_fields("typed.wrong", phone=7911))
    assert wrong.status_code == 422
    assert wrong.json()["error"]["fields"] == {"phone": "Enter text here."}

    not_object = await client.post("/api/v1/consumers", json=["a", "list"])
    assert not_object.status_code == 400
    assert not_object.json()["error"]["code"] == "invalid_json"
    assert await count_users(rt, clinic) == before


@pytest.mark.promise("P01")
@pytest.mark.promise("P23")
async def test_api_registration_refuses_a_taken_username_in_any_case(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    before = await count_users(rt, clinic)
    for name in (
        "Alpha.Consumer",
        "ALPHA.CONSUMER",
        " alpha.consumer ",
        "\uff21\uff2c\uff30\uff28\uff21.consumer",  # full-width letters, NFKC-folded
    ):
        response = await client.post(
            "/api/v1/consumers", json=person_fields(name, email="other@example.org")
        )
        assert response.status_code == 422, name
        assert response.json()["error"]["fields"] == {"username": TAKEN}
    assert await count_users(rt, clinic) == before


@pytest.mark.promise("P01")
async def test_professional_and_admin_usernames_are_taken_too(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    """One namespace per clinic: a consumer cannot take a staff member's username."""
    for taken in (clinic.professional.username, clinic.admin.username):
        response = await client.post("/api/v1/consumers", json=person_fields(taken.title()))
        assert response.status_code == 422
        assert response.json()["error"]["fields"] == {"username": TAKEN}


# ---------------------------------------------------------------- how passwords are kept


@pytest.mark.promise("P23")
async def test_password_is_stored_as_argon2id_never_in_plain(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    assert (await post_form(client, "/register", person_fields("hash.one"))).status_code == 303
    async with client_for(app, clinic.host) as other:
        api = await other.post("/api/v1/consumers", json=person_fields("hash.two"))
        assert api.status_code == 201
    accounts = await users_of(rt, clinic)
    hashes = set()
    for name in ("hash.one", "hash.two", clinic.consumer.username, clinic.admin.username):
        stored = accounts[name].password_hash
        assert stored.startswith("$argon2id$"), stored
        assert PASSWORD not in stored
        assert rt.passwords.verify(stored, PASSWORD)
        assert not rt.passwords.verify(stored, PASSWORD + "x")
        hashes.add(stored)
    assert len(hashes) == 4  # salted: the same password never gives the same hash


@pytest.mark.promise("P23")
async def test_production_hashing_is_memory_hard(rt: Runtime) -> None:
    """The test suite hashes cheaply; the real cost parameters are argon2id's, memory-hard."""
    from argon2 import extract_parameters

    from praxis.core.accounts.passwords import Passwords

    stored = Passwords().hash(PASSWORD)
    params = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert params.memory_cost >= 64 * 1024  # KiB: 64 MiB
    assert params.time_cost >= 2
