"""The JSON API under /api/v1: every endpoint, its success and each way it refuses.

Errors are always {"error": {"code", "message", "fields"}} with the right status;
/api/v1/openapi.json describes every route, and what it says matches what is sent.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.routing import Mount, Route

from praxis.core.accounts.mfa import Authenticator
from praxis.core.accounts.models import User
from praxis.core.db import utcnow
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.support import (
    PASSWORD,
    Clinic,
    Person,
    api_login,
    first_free_slot,
    login,
    make_consumer,
    person_fields,
)

LONDON = ZoneInfo("Europe/London")
PERSON_FIELDS = {"full_name", "email", "phone", "address_line1", "town", "postcode"}
ME_KEYS = {"id", "username", "role", "full_name", "email", "phone", "address", "csrf_token"}


def assert_error(
    response: httpx.Response, status: int, code: str, fields: set[str] | None = None
) -> dict[str, Any]:
    """The one error shape, with this status and code (and, if given, exactly these fields)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and len(error["message"]) > 5
    assert isinstance(error["fields"], dict)
    if fields is not None:
        assert set(error["fields"]) == fields, error["fields"]
        assert all(isinstance(m, str) and m for m in error["fields"].values())
    return error


def booking(clinic: Clinic, starts_at: str, kind: str = "Standard") -> dict[str, str]:
    return {
        "professional_id": str(clinic.professional_id),
        "consultation_type_id": str(clinic.kinds[kind]),
        "starts_at": starts_at,
    }


async def slot_on(
    http: httpx.AsyncClient, clinic: Clinic, days: int, kind: str = "Standard"
) -> str:
    """The first free start ``days`` from today (clinic time): days >= 2 is outside the
    24-hour cancellation window; days = 0 may be full already, so callers use >= 1."""
    day = (datetime.now(LONDON).date() + timedelta(days=days)).isoformat()
    response = await http.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={"consultation_type_id": str(clinic.kinds[kind]), "from": day, "to": day},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"][0]["starts_at"])


async def book(
    http: httpx.AsyncClient, clinic: Clinic, headers: dict[str, str], starts_at: str
) -> dict[str, Any]:
    response = await http.post(
        "/api/v1/appointments", json=booking(clinic, starts_at), headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def enable_two_step(rt: Runtime, clinic: Clinic, person: Person) -> str:
    secret, sealed = rt.authenticator.new_secret()
    async with rt.database.writing(clinic.tenant.id) as db:
        user = await db.get(User, (clinic.tenant.id, person.id))
        assert user is not None
        user.totp_secret = sealed
        user.totp_enabled_at = utcnow()
        await db.commit()
    return secret


def wrong_code(secret: str) -> str:
    valid = {Authenticator.current_code(secret)}
    return next(c for c in ("000000", "111111", "222222") if c not in valid)


# Sign-in, sign-out


async def test_login_answers_the_account_and_sets_the_session(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": " Alpha.Consumer ", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    me = response.json()
    assert set(me) == ME_KEYS
    assert me["id"] == str(clinic.consumer.id)
    assert me["role"] == "consumer"
    assert me["phone"] == "+447911123456"
    assert me["address"]["postcode"] == "N1 1AA"
    assert "praxis_session=" in response.headers["set-cookie"]
    assert "httponly" in response.headers["set-cookie"].lower()
    again = await client.get("/api/v1/me")
    assert again.status_code == 200
    assert again.json()["csrf_token"] == me["csrf_token"]


async def test_login_refuses_wrong_credentials_alike(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    wrong = await client.post(
        "/api/v1/auth/login", json={"username": "alpha.consumer", "password": "not-the-one"}
    )
    nobody = await client.post(
        "/api/v1/auth/login", json={"username": "nobody.here", "password": PASSWORD}
    )
    first = assert_error(wrong, 401, "wrong_credentials", set())
    second = assert_error(nobody, 401, "wrong_credentials", set())
    assert first["message"] == second["message"]
    assert "set-cookie" not in wrong.headers or "praxis_session=" not in wrong.headers["set-cookie"]
    assert_error(await client.get("/api/v1/me"), 401, "sign_in_required")


async def test_login_is_throttled(client: httpx.AsyncClient, clinic: Clinic) -> None:
    for _ in range(5):
        response = await client.post(
            "/api/v1/auth/login", json={"username": "alpha.consumer", "password": "wrong-one"}
        )
        assert_error(response, 401, "wrong_credentials")
    locked = await client.post(
        "/api/v1/auth/login", json={"username": "alpha.consumer", "password": PASSWORD}
    )
    assert_error(locked, 429, "too_many_attempts")
    assert int(locked.headers["retry-after"]) > 0


# Bodies that are not a JSON object: (body, Content-Type, status, code).
NOT_AN_OBJECT: list[tuple[bytes, str, int, str]] = [
    (b"{not json", "application/json", 400, "invalid_json"),
    (b"\xff\xfe\x00", "application/json", 400, "invalid_json"),
    (b"[1, 2]", "application/json", 400, "invalid_json"),
    (b'"text"', "application/json", 400, "invalid_json"),
    (b"", "application/json", 400, "invalid_json"),
    (b"[" * 50_000 + b"]" * 50_000, "application/json", 400, "invalid_json"),  # RecursionError
    (b'{"username": ' + b"9" * 5_000 + b"}", "application/json", 400, "invalid_json"),
    (b'{"username": "a", "password": NaN}', "application/json", 400, "invalid_json"),
    (b'{"username": "a\\u0000", "password": "b"}', "application/json", 400, "invalid_json"),
    (b"username=a&password=b", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b'{"username": "a", "password": "b"}', "text/plain", 415, "unsupported_media_type"),
    (b'{"username": "a", "password": "b"}', "application/json-seq", 415, "unsupported_media_type"),
    (b'{"username": "a", "password": "b"}', "", 415, "unsupported_media_type"),
]


async def test_bodies_that_are_not_a_json_object(client: httpx.AsyncClient, clinic: Clinic) -> None:
    for content, content_type, status, code in NOT_AN_OBJECT:
        headers = {"Content-Type": content_type} if content_type else {}
        for path in ("/api/v1/auth/login", "/api/v1/consumers"):
            response = await client.post(path, content=content, headers=headers)
            assert response.status_code == status, (path, content, content_type)
            assert_error(response, status, code, set())


async def test_json_content_type_with_parameters_is_accepted(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b'{"username": "alpha.consumer", "password": "correct-horse-battery"}',
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert response.status_code == 200, response.text


async def test_login_fields_are_checked(client: httpx.AsyncClient, clinic: Clinic) -> None:
    assert_error(
        await client.post("/api/v1/auth/login", json={}),
        422,
        "invalid_input",
        {"username", "password"},
    )
    assert_error(
        await client.post(
            "/api/v1/auth/login",
            json={"username": "alpha.consumer", "password": PASSWORD, "admin": True},
        ),
        422,
        "invalid_input",
        {"admin"},
    )
    assert_error(
        await client.post("/api/v1/auth/login", json={"username": 5, "password": ""}),
        422,
        "invalid_input",
        {"username", "password"},
    )


async def test_login_with_two_step_needs_a_fresh_code(
    app: Any, client: httpx.AsyncClient, rt: Runtime, clinic: Clinic
) -> None:
    secret = await enable_two_step(rt, clinic, clinic.admin)
    creds = {"username": "alpha.admin", "password": PASSWORD}
    missing = await client.post("/api/v1/auth/login", json=creds)
    assert_error(missing, 401, "second_factor_required")
    bad = await client.post("/api/v1/auth/login", json={**creds, "code": wrong_code(secret)})
    assert_error(bad, 422, "invalid_input", {"code"})
    malformed = await client.post("/api/v1/auth/login", json={**creds, "code": "12ab"})
    assert_error(malformed, 422, "invalid_input", {"code"})
    assert_error(await client.get("/api/v1/me"), 401, "sign_in_required")
    code = Authenticator.current_code(secret)
    spaced = f"{code[:3]} {code[3:]}"
    good = await client.post("/api/v1/auth/login", json={**creds, "code": spaced})
    assert good.status_code == 200, good.text
    assert good.json()["role"] == "clinic_admin"
    async with client_for(app, clinic.host) as other:
        replay = await other.post("/api/v1/auth/login", json={**creds, "code": code})
        assert_error(replay, 422, "invalid_input", {"code"})


async def test_wrong_codes_count_towards_the_lockout(
    client: httpx.AsyncClient, rt: Runtime, clinic: Clinic
) -> None:
    secret = await enable_two_step(rt, clinic, clinic.admin)
    creds = {"username": "alpha.admin", "password": PASSWORD, "code": wrong_code(secret)}
    statuses = [(await client.post("/api/v1/auth/login", json=creds)).status_code for _ in range(8)]
    assert statuses[0] == 422
    assert statuses[-1] == 429, statuses


async def test_second_factor_pending_session_is_refused(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    await enable_two_step(rt, clinic, clinic.admin)
    async with client_for(app, clinic.host) as browser:
        await login(browser, clinic.admin.username)  # password given, code not yet
        assert_error(await browser.get("/api/v1/me"), 401, "second_factor_required")
        assert_error(await browser.get("/api/v1/appointments"), 401, "second_factor_required")


async def test_signed_in_posts_need_the_csrf_header(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    headers = await api_login(client, clinic.consumer.username)
    assert_error(await client.post("/api/v1/auth/logout"), 403, "csrf_failed")
    assert_error(
        await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": "forged"}),
        403,
        "csrf_failed",
    )
    again = await client.post(
        "/api/v1/auth/login",
        json={"username": "alpha.consumer", "password": PASSWORD},
    )
    assert_error(again, 403, "csrf_failed")
    assert (await client.get("/api/v1/me")).status_code == 200, "a refused POST changed nothing"
    out = await client.post("/api/v1/auth/logout", headers=headers)
    assert out.status_code == 200
    assert out.json() == {"ok": True}
    assert_error(await client.get("/api/v1/me"), 401, "sign_in_required")


async def test_a_token_of_another_session_is_refused(app: Any, clinic: Clinic) -> None:
    async with client_for(app, clinic.host) as one, client_for(app, clinic.host) as two:
        one_headers = await api_login(one, clinic.consumer.username)
        await api_login(two, clinic.consumer.username)
        assert_error(await two.post("/api/v1/auth/logout", headers=one_headers), 403, "csrf_failed")


async def test_logout_needs_a_session(client: httpx.AsyncClient, clinic: Clinic) -> None:
    assert_error(await client.post("/api/v1/auth/logout"), 401, "sign_in_required")
    assert_error(await client.post("/api/v1/auth/logout-everywhere"), 401, "sign_in_required")


async def test_logout_everywhere_ends_every_session(app: Any, clinic: Clinic) -> None:
    async with client_for(app, clinic.host) as one, client_for(app, clinic.host) as two:
        headers = await api_login(one, clinic.consumer.username)
        await api_login(two, clinic.consumer.username)
        async with client_for(app, clinic.host) as someone_else:
            await api_login(someone_else, clinic.professional.username)
            assert_error(await one.post("/api/v1/auth/logout-everywhere"), 403, "csrf_failed")
            done = await one.post("/api/v1/auth/logout-everywhere", headers=headers)
            assert done.status_code == 200
            assert done.json() == {"ok": True}
            assert_error(await one.get("/api/v1/me"), 401, "sign_in_required")
            assert_error(await two.get("/api/v1/me"), 401, "sign_in_required")
            assert (await someone_else.get("/api/v1/me")).status_code == 200


# Registering


async def test_register_creates_a_consumer_and_signs_in(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    fields = person_fields("new.person", phone="+44 7911 123457", postcode="sw1a1aa")
    response = await client.post("/api/v1/consumers", json=fields)
    assert response.status_code == 201, response.text
    me = response.json()
    assert set(me) == ME_KEYS
    assert me["username"] == "new.person"
    assert me["role"] == "consumer"
    assert me["phone"] == "+447911123457"
    assert me["address"]["postcode"] == "SW1A 1AA"
    assert PASSWORD not in response.text
    assert (await client.get("/api/v1/me")).json()["id"] == me["id"]
    assert (await client.get("/api/v1/appointments")).json() == {"data": []}


async def test_register_names_each_bad_field(client: httpx.AsyncClient, clinic: Clinic) -> None:
    bad = person_fields(
        "X",
        email="not-an-email",
        phone="12",
        postcode="nowhere",
        password="short",
        full_name="",
    )
    error = assert_error(
        await client.post("/api/v1/consumers", json=bad),
        422,
        "invalid_input",
        {"username", "email", "phone", "postcode", "password", "full_name"},
    )
    assert "not-an-email" not in str(error), "messages must not echo what was typed"
    missing = await client.post("/api/v1/consumers", json={})
    assert_error(
        missing,
        422,
        "invalid_input",
        {
            "full_name",
            "email",
            "phone",
            "address_line1",
            "town",
            "postcode",
            "username",
            "password",
        },
    )
    assert_error(await client.get("/api/v1/me"), 401, "sign_in_required")


async def test_register_refuses_a_taken_username(client: httpx.AsyncClient, clinic: Clinic) -> None:
    response = await client.post("/api/v1/consumers", json=person_fields("alpha.pro"))
    error = assert_error(response, 422, "invalid_input", {"username"})
    assert "taken" in error["fields"]["username"]


async def test_register_while_signed_in_needs_csrf(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    headers = await api_login(client, clinic.consumer.username)
    fields = person_fields("second.account")
    assert_error(await client.post("/api/v1/consumers", json=fields), 403, "csrf_failed")
    made = await client.post("/api/v1/consumers", json=fields, headers=headers)
    assert made.status_code == 201, made.text
    assert (await client.get("/api/v1/me")).json()["username"] == "second.account"


# The account


async def test_me(client: httpx.AsyncClient, clinic: Clinic) -> None:
    assert_error(await client.get("/api/v1/me"), 401, "sign_in_required")
    await api_login(client, clinic.professional.username)
    me = (await client.get("/api/v1/me")).json()
    assert me["username"] == "alpha.pro"
    assert me["role"] == "professional"
    assert me["full_name"] == "Alpha.Pro Example"


# Professionals and free times


async def test_professionals_lists_only_the_approved(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    response = await client.get("/api/v1/professionals")
    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {
                "id": str(clinic.professional_id),
                "name": "Alpha.Pro Example",
                "field_of_practice": "General practice",
                "qualifications": "MBBS",
                "bio": "",
                "photo_url": None,
            }
        ]
    }


async def test_professional_shows_what_they_offer(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    response = await client.get(f"/api/v1/professionals/{clinic.professional_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Alpha.Pro Example"
    assert body["consultation_types"] == [
        {
            "id": str(clinic.kinds["Standard"]),
            "name": "Standard",
            "duration_minutes": 30,
            "mode": "video",
            "price": {"amount_minor": 4000, "currency": "GBP"},
        },
        {
            "id": str(clinic.kinds["Long"]),
            "name": "Long",
            "duration_minutes": 60,
            "mode": "in_person",
            "price": {"amount_minor": 4000, "currency": "GBP"},
        },
    ]


async def test_professionals_not_found(client: httpx.AsyncClient, clinic: Clinic) -> None:
    for pro in (clinic.pending_professional_id, uuid.uuid4()):
        assert_error(await client.get(f"/api/v1/professionals/{pro}"), 404, "not_found")
        slots = await client.get(
            f"/api/v1/professionals/{pro}/slots",
            params={"consultation_type_id": str(clinic.kinds["Standard"])},
        )
        assert_error(slots, 404, "not_found")
    assert_error(await client.get("/api/v1/professionals/not-a-uuid"), 404, "not_found")


async def test_slots_are_free_times_in_the_window(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    first = datetime.now(LONDON).date() + timedelta(days=2)
    last = first + timedelta(days=1)
    response = await client.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={
            "consultation_type_id": str(clinic.kinds["Long"]),
            "from": first.isoformat(),
            "to": last.isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["professional_id"] == str(clinic.professional_id)
    assert body["consultation_type_id"] == str(clinic.kinds["Long"])
    assert body["timezone"] == "Europe/London"
    starts = [datetime.fromisoformat(s["starts_at"]) for s in body["data"]]
    ends = [datetime.fromisoformat(s["ends_at"]) for s in body["data"]]
    assert starts and all(s.tzinfo is not None for s in starts)
    assert all(e - s == timedelta(minutes=60) for s, e in zip(starts, ends, strict=True))
    local = [s.astimezone(LONDON) for s in starts]
    assert {d.date() for d in local} == {first, last}
    assert min(d.time() for d in local).hour == 8
    assert max(e.astimezone(LONDON).time() for e in ends).hour == 20
    assert starts == sorted(starts)


async def test_slots_default_to_the_coming_week_after_the_notice(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    response = await client.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={"consultation_type_id": str(clinic.kinds["Standard"])},
    )
    starts = [datetime.fromisoformat(s["starts_at"]) for s in response.json()["data"]]
    now = datetime.now(UTC)
    assert starts
    assert min(starts) >= now + timedelta(hours=2) - timedelta(minutes=1)
    today = datetime.now(LONDON).date()
    assert max(s.astimezone(LONDON).date() for s in starts) == today + timedelta(days=6)


# Bad slot queries, and the field each is blamed on.
BAD_SLOT_QUERIES: list[tuple[dict[str, str | None], str]] = [
    ({"consultation_type_id": None}, "consultation_type_id"),
    ({"consultation_type_id": "nope"}, "consultation_type_id"),
    ({"from": "2026-13-01"}, "from"),
    ({"from": "tomorrow"}, "from"),
    ({"to": "01/12/2026"}, "to"),
    ({"from": "2030-01-10", "to": "2030-01-09"}, "to"),
    ({"from": "2030-01-01", "to": "2030-02-01"}, "to"),
    ({"from": "0001-01-01"}, "from"),  # the calendar's ends: once an OverflowError
    ({"from": "9999-12-31"}, "from"),
    ({"from": "2030-01-01", "to": "9999-12-31"}, "to"),
]


async def test_slots_refuse_bad_queries(client: httpx.AsyncClient, clinic: Clinic) -> None:
    for params, field in BAD_SLOT_QUERIES:
        query = {"consultation_type_id": str(clinic.kinds["Standard"]), **params}
        sent = {k: v for k, v in query.items() if v is not None}
        response = await client.get(
            f"/api/v1/professionals/{clinic.professional_id}/slots", params=sent
        )
        assert response.status_code == 422, params
        assert_error(response, 422, "invalid_input", {field})


async def test_slots_of_an_unknown_or_foreign_consultation(
    client: httpx.AsyncClient, rt: Runtime, clinic: Clinic
) -> None:
    from praxis.core.booking import diary

    async with rt.database.reading(clinic.tenant.id) as db:
        pending_kinds = await diary.consultation_types(db, clinic.pending_professional_id)
    for kind in (uuid.uuid4(), pending_kinds[0].id):
        response = await client.get(
            f"/api/v1/professionals/{clinic.professional_id}/slots",
            params={"consultation_type_id": str(kind)},
        )
        assert_error(response, 404, "not_found")


# Appointments


async def test_appointments_need_a_consumer(app: Any, clinic: Clinic) -> None:
    async with client_for(app, clinic.host) as http:
        assert_error(await http.get("/api/v1/appointments"), 401, "sign_in_required")
        some = uuid.uuid4()
        assert_error(await http.get(f"/api/v1/appointments/{some}"), 401, "sign_in_required")
        assert_error(
            await http.post(f"/api/v1/appointments/{some}/cancel"), 401, "sign_in_required"
        )
        body = booking(clinic, "2030-01-01T09:00:00Z")
        assert_error(await http.post("/api/v1/appointments", json=body), 401, "sign_in_required")
    for staff in (clinic.professional, clinic.admin):
        async with client_for(app, clinic.host) as http:
            headers = await api_login(http, staff.username)
            assert_error(await http.get("/api/v1/appointments"), 403, "forbidden")
            start = await slot_on(http, clinic, 2)
            posted = await http.post(
                "/api/v1/appointments", json=booking(clinic, start), headers=headers
            )
            assert_error(posted, 403, "forbidden")
            assert_error(await http.get(f"/api/v1/appointments/{uuid.uuid4()}"), 403, "forbidden")


async def test_book_and_read_back(client: httpx.AsyncClient, clinic: Clinic) -> None:
    headers = await api_login(client, clinic.consumer.username)
    start = await slot_on(client, clinic, 3)
    made = await book(client, clinic, headers, start)
    starts_at = datetime.fromisoformat(made["starts_at"])
    assert starts_at == datetime.fromisoformat(start)
    assert datetime.fromisoformat(made["ends_at"]) - starts_at == timedelta(minutes=30)
    assert made["status"] == "booked"
    assert made["mode"] == "video"
    assert made["price"] == {"amount_minor": 4000, "currency": "GBP"}
    assert made["professional"] == {"id": str(clinic.professional_id), "name": "Alpha.Pro Example"}
    assert made["consultation_type"] == {"id": str(clinic.kinds["Standard"]), "name": "Standard"}
    assert datetime.fromisoformat(made["cancellable_until"]) == starts_at - timedelta(hours=24)
    one = await client.get(f"/api/v1/appointments/{made['id']}")
    assert one.status_code == 200
    assert one.json() == made
    later = await book(client, clinic, headers, await slot_on(client, clinic, 4))
    listed = (await client.get("/api/v1/appointments")).json()["data"]
    assert [a["id"] for a in listed] == [later["id"], made["id"]], "newest first"
    day = starts_at.astimezone(LONDON).date().isoformat()

    async def free(kind: str) -> set[datetime]:
        response = await client.get(
            f"/api/v1/professionals/{clinic.professional_id}/slots",
            params={"consultation_type_id": str(clinic.kinds[kind]), "from": day, "to": day},
        )
        return {datetime.fromisoformat(s["starts_at"]) for s in response.json()["data"]}

    standard, long = await free("Standard"), await free("Long")
    assert starts_at not in standard
    assert starts_at + timedelta(minutes=30) in standard
    assert starts_at not in long, "a 60-minute slot overlapping the booking is offered"
    assert starts_at + timedelta(minutes=60) in long


async def test_book_conflicts(app: Any, rt: Runtime, clinic: Clinic) -> None:
    other = await make_consumer(rt, clinic.tenant, "alpha.other")
    async with client_for(app, clinic.host) as mine, client_for(app, clinic.host) as theirs:
        headers = await api_login(mine, clinic.consumer.username)
        their_headers = await api_login(theirs, other.username)
        start = await slot_on(mine, clinic, 3)
        await book(mine, clinic, headers, start)
        for http, h in ((mine, headers), (theirs, their_headers)):
            again = await http.post("/api/v1/appointments", json=booking(clinic, start), headers=h)
            assert_error(again, 409, "conflict", set())
        odd = datetime.fromisoformat(start) + timedelta(minutes=7)
        off_grid = await mine.post(
            "/api/v1/appointments", json=booking(clinic, odd.isoformat()), headers=headers
        )
        assert_error(off_grid, 409, "conflict")
        night = datetime.combine(
            datetime.now(LONDON).date() + timedelta(days=3), datetime.min.time(), LONDON
        ) + timedelta(hours=3)
        closed = await mine.post(
            "/api/v1/appointments", json=booking(clinic, night.isoformat()), headers=headers
        )
        assert_error(closed, 409, "conflict")
        past = await mine.post(
            "/api/v1/appointments",
            json=booking(clinic, "2020-01-06T09:00:00+00:00"),
            headers=headers,
        )
        assert_error(past, 409, "conflict")
        assert len((await mine.get("/api/v1/appointments")).json()["data"]) == 1
        assert (await theirs.get("/api/v1/appointments")).json() == {"data": []}


async def test_book_refuses_bad_bodies(client: httpx.AsyncClient, clinic: Clinic) -> None:
    headers = await api_login(client, clinic.consumer.username)
    start = await slot_on(client, clinic, 3)
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({}, {"professional_id", "consultation_type_id", "starts_at"}),
        ({**booking(clinic, start), "professional_id": "nope"}, {"professional_id"}),
        ({**booking(clinic, start), "starts_at": "2030-01-01T09:00:00"}, {"starts_at"}),
        ({**booking(clinic, start), "starts_at": "soon"}, {"starts_at"}),
        ({**booking(clinic, start), "starts_at": "0001-01-01T00:00:00Z"}, {"starts_at"}),
        ({**booking(clinic, start), "starts_at": "9999-12-31T23:59:59Z"}, {"starts_at"}),
        ({**booking(clinic, start), "consultation_type_id": 7}, {"consultation_type_id"}),
    ]
    for body, fields in cases:
        response = await client.post("/api/v1/appointments", json=body, headers=headers)
        assert_error(response, 422, "invalid_input", fields)
    assert_error(
        await client.post(
            "/api/v1/appointments",
            content=b"{",
            headers={**headers, "Content-Type": "application/json"},
        ),
        400,
        "invalid_json",
    )
    assert_error(
        await client.post("/api/v1/appointments", data=booking(clinic, start), headers=headers),
        415,
        "unsupported_media_type",
    )
    assert_error(
        await client.post("/api/v1/appointments", json=booking(clinic, start)),
        403,
        "csrf_failed",
    )
    for pro in (uuid.uuid4(), clinic.pending_professional_id):
        body = {**booking(clinic, start), "professional_id": str(pro)}
        response = await client.post("/api/v1/appointments", json=body, headers=headers)
        assert_error(response, 404, "not_found")
    assert (await client.get("/api/v1/appointments")).json() == {"data": []}


async def test_appointments_of_another_consumer_are_not_found(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    other = await make_consumer(rt, clinic.tenant, "alpha.other")
    async with client_for(app, clinic.host) as mine, client_for(app, clinic.host) as theirs:
        headers = await api_login(mine, clinic.consumer.username)
        made = await book(mine, clinic, headers, await slot_on(mine, clinic, 3))
        their_headers = await api_login(theirs, other.username)
        assert_error(await theirs.get(f"/api/v1/appointments/{made['id']}"), 404, "not_found")
        cancel = await theirs.post(
            f"/api/v1/appointments/{made['id']}/cancel", headers=their_headers
        )
        assert_error(cancel, 404, "not_found")
        assert (await theirs.get("/api/v1/appointments")).json() == {"data": []}
        assert (await mine.get(f"/api/v1/appointments/{made['id']}")).json()["status"] == "booked"
        assert_error(await mine.get(f"/api/v1/appointments/{uuid.uuid4()}"), 404, "not_found")
        assert_error(await mine.get("/api/v1/appointments/not-a-uuid"), 404, "not_found")


async def test_cancel_frees_the_time_once(client: httpx.AsyncClient, clinic: Clinic) -> None:
    headers = await api_login(client, clinic.consumer.username)
    start = await slot_on(client, clinic, 3)
    made = await book(client, clinic, headers, start)
    path = f"/api/v1/appointments/{made['id']}/cancel"
    assert_error(await client.post(path), 403, "csrf_failed")
    assert (await client.get(path.removesuffix("/cancel"))).json()["status"] == "booked"
    cancelled = await client.post(path, headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {**made, "status": "cancelled"}
    assert_error(await client.post(path, headers=headers), 409, "conflict", set())
    rebooked = await client.post(
        "/api/v1/appointments", json=booking(clinic, start), headers=headers
    )
    assert rebooked.status_code == 201, "the cancelled time was not freed"
    assert_error(
        await client.post(f"/api/v1/appointments/{uuid.uuid4()}/cancel", headers=headers),
        404,
        "not_found",
    )


async def test_cancel_too_late(client: httpx.AsyncClient, clinic: Clinic) -> None:
    """The window is 24 hours; the first free time is always sooner than that."""
    headers = await api_login(client, clinic.consumer.username)
    start = await first_free_slot(client, clinic)
    assert datetime.fromisoformat(start) - datetime.now(UTC) < timedelta(hours=24)
    made = await book(client, clinic, headers, start)
    assert datetime.fromisoformat(made["cancellable_until"]) < datetime.now(UTC)
    refused = await client.post(f"/api/v1/appointments/{made['id']}/cancel", headers=headers)
    error = assert_error(refused, 403, "not_allowed", set())
    assert "24 hours" in error["message"]
    assert "Alpha Clinic" in error["message"]
    assert (await client.get(f"/api/v1/appointments/{made['id']}")).json()["status"] == "booked"


class TestStaffMustSetUpTwoStep:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"STAFF_MFA_REQUIRED": True}

    async def test_staff_without_two_step_are_told_to_set_it_up_first(
        self, app: Any, clinic: Clinic
    ) -> None:
        async with client_for(app, clinic.host) as staff:
            body = {"username": clinic.professional.username, "password": PASSWORD}
            refused = await staff.post("/api/v1/auth/login", json=body)
            assert_error(refused, 403, "second_factor_setup_required")  # as the pages say
            assert_error(await staff.get("/api/v1/me"), 401, "sign_in_required")  # no session
        async with client_for(app, clinic.host) as consumer:
            await api_login(consumer, clinic.consumer.username)
            assert (await consumer.get("/api/v1/me")).status_code == 200


# Unknown paths and methods


async def test_unknown_api_paths_answer_json(
    app: Any, client: httpx.AsyncClient, clinic: Clinic
) -> None:
    for path in ("/api/v1/nope", "/api/v1", "/api/v2/professionals", "/api/v1/professionals/x/y"):
        assert_error(await client.get(path), 404, "not_found")
    assert_error(await client.post("/api/v1/nope", json={}), 404, "not_found")
    assert_error(await client.put("/api/v1/me"), 405, "method_not_allowed")
    assert_error(await client.put("/api/v1/professionals", json={}), 405, "method_not_allowed")
    async with client_for(app, "localhost") as platform:
        assert_error(await platform.get("/api/v1/professionals"), 404, "not_found")
        assert_error(await platform.get("/api/v1/nope"), 404, "not_found")


# The OpenAPI document


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


# The errors each operation can answer, as the tests above provoke them.
ERRORS = {
    "login": {400, 401, 403, 415, 422, 429},
    "logout": {401, 403},
    "logout_everywhere": {401, 403},
    "register": {400, 403, 415, 422},
    "me": {401, 403},
    "professionals": set(),
    "professional": {404},
    "slots": {404, 422},
    "appointments": {401, 403},
    "book": {400, 401, 403, 404, 409, 415, 422},
    "appointment": {401, 403, 404},
    "cancel": {401, 403, 404, 409},
}


@pytest.fixture
async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: op
        for item in document["paths"].values()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }


async def test_openapi_is_a_3_1_document(openapi: dict[str, Any], clinic: Clinic) -> None:
    assert openapi["openapi"] == "3.1.0"
    assert openapi["info"]["title"] and openapi["info"]["version"]
    assert set(openapi) <= {"openapi", "info", "paths", "components", "servers", "security"}
    ids = [op["operationId"] for item in openapi["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["session"] == {"type": "apiKey", "in": "cookie", "name": "praxis_session"}
    for path, item in openapi["paths"].items():
        assert path.startswith("/api/v1/")
        named = set(re.findall(r"\{(\w+)\}", path))
        for method, op in item.items():
            assert method in {"get", "post", "patch", "delete"}, (path, method)
            assert op["summary"]
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == named, (path, method)
            for p in op.get("parameters", []):
                assert p["in"] in {"path", "query"} and "schema" in p
                assert p["required"] is True or p["in"] == "query"
            for status, answer in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status), status
                assert answer["description"]
                if path.endswith("/download") and status.startswith("2"):
                    assert set(answer["content"]) == {"application/zip"}  # a file
                else:
                    assert set(answer["content"]) == {"application/json"}
            assert any(s.startswith("2") for s in op["responses"])
            for requirement in op.get("security", []):
                assert set(requirement) <= set(schemes)
            if "requestBody" in op:
                assert set(op["requestBody"]["content"]) == {"application/json"}


async def test_openapi_lists_every_api_route(
    app: Any, openapi: dict[str, Any], clinic: Clinic
) -> None:
    routes = [(path, r) for path, r in _served_routes(app.routes) if path.startswith("/api/v1")]
    assert len(routes) >= 13
    for full_path, route in routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", full_path)
        assert path in openapi["paths"], path
        for method in route.methods or ():
            if method != "HEAD":
                assert method.lower() in openapi["paths"][path], (method, path)
    documented = {(p, m) for p, item in openapi["paths"].items() for m in item}
    served = {
        (re.sub(r"\{(\w+):\w+\}", r"{\1}", p), m.lower())
        for p, r in routes
        for m in r.methods or ()
        if m != "HEAD"
    }
    assert documented == served


def _served_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Route]]:
    """Every Route with its full path, looking inside mounts."""
    for route in routes:
        if isinstance(route, Route):
            yield prefix + route.path, route
        elif isinstance(route, Mount) and route.routes:
            yield from _served_routes(list(route.routes), prefix + route.path)


async def test_openapi_refs_all_resolve(openapi: dict[str, Any], clinic: Clinic) -> None:
    schemas = openapi["components"]["schemas"]
    refs = [n["$ref"] for n in _walk(openapi) if isinstance(n, dict) and "$ref" in n]
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    assert "$defs" not in str(openapi)


async def test_openapi_lists_every_error_an_operation_answers(
    openapi: dict[str, Any], clinic: Clinic
) -> None:
    operations = _operations(openapi)
    assert set(ERRORS) <= set(operations)
    for name, statuses in ERRORS.items():
        listed = {int(s) for s in operations[name]["responses"] if not s.startswith("2")}
        assert statuses <= listed, f"{name} does not list {statuses - listed}"
        for status in listed:
            schema = operations[name]["responses"][str(status)]["content"]["application/json"]
            assert schema["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    error = openapi["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"code", "message", "fields"}


async def test_openapi_describes_what_is_sent(
    client: httpx.AsyncClient, openapi: dict[str, Any], clinic: Clinic
) -> None:
    schemas = openapi["components"]["schemas"]

    def keys(name: str) -> set[str]:
        return set(schemas[name]["properties"])

    headers = await api_login(client, clinic.consumer.username)
    assert set((await client.get("/api/v1/me")).json()) == keys("MeOut")
    made = await book(client, clinic, headers, await slot_on(client, clinic, 3))
    assert set(made) == keys("AppointmentOut")
    assert set(made["price"]) == keys("Price")
    pro = (await client.get(f"/api/v1/professionals/{clinic.professional_id}")).json()
    assert set(pro) == keys("ProfessionalDetailOut")
    slots = await client.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={"consultation_type_id": str(clinic.kinds["Standard"])},
    )
    assert set(slots.json()) == keys("SlotList")
    assert set(keys("BookingRequest")) == set(booking(clinic, "x"))
    login_op = _operations(openapi)["login"]
    assert "security" not in login_op
    assert _operations(openapi)["book"]["security"] == [{"session": [], "csrf": []}]
    assert _operations(openapi)["appointments"]["security"] == [{"session": []}]
