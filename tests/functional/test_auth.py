"""Signing in and out: uniform refusals and lockout (P16, P23), server-side sessions with idle
and absolute timeouts and logout everywhere (P24), cookies and CSRF."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from praxis.core.accounts.models import OperatorSession, User, UserSession
from praxis.core.accounts.signin import WRONG_CREDENTIALS
from praxis.core.app import create_app
from praxis.core.config import Settings
from praxis.core.crypto import token_digest
from praxis.core.db import utcnow
from praxis.core.runtime import Runtime
from tests.conftest import PLATFORM_RELAY, client_for
from tests.support import (
    PASSWORD,
    Clinic,
    api_login,
    csrf_in,
    login,
    make_operator,
    person_fields,
    post_form,
)

COOKIE = "praxis_session"
LOCKED = "Too many failed sign-in attempts. Please try again in"


def client_from(app: Any, host: str, address: str) -> httpx.AsyncClient:
    """A browser at another network address (client_for always uses the same one)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=f"http://{host}", follow_redirects=False)


async def try_login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, *, prefix: str = ""
) -> httpx.Response:
    """Like tests.support.login, but any outcome is returned."""
    return await post_form(client, f"{prefix}/login", {"username": username, "password": password})


async def api_try_login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


async def whoami(client: httpx.AsyncClient, **headers: str) -> str | None:
    """The username the API sees for this browser's cookie, or None when signed out."""
    response = await client.get("/api/v1/me", headers=headers)
    if response.status_code == 401:
        assert response.json()["error"]["code"] == "sign_in_required"
        return None
    assert response.status_code == 200, response.text
    return str(response.json()["username"])


def as_cookie(token: str, name: str = COOKIE) -> dict[str, str]:
    return {"Cookie": f"{name}={token}"}


async def session_rows(rt: Runtime, clinic: Clinic, user_id: uuid.UUID) -> list[UserSession]:
    async with rt.database.reading(clinic.tenant.id) as db:
        query = select(UserSession).where(UserSession.user_id == user_id)
        return list((await db.scalars(query)).all())


async def session_row(rt: Runtime, clinic: Clinic, token: str) -> UserSession | None:
    async with rt.database.reading(clinic.tenant.id) as db:
        query = select(UserSession).where(UserSession.token_hash == token_digest(token))
        return await db.scalar(query)


async def set_session(rt: Runtime, clinic: Clinic, token: str, **values: Any) -> None:
    """Change a session row directly in the database (to move it back in time)."""
    async with rt.database.writing(clinic.tenant.id) as db:
        await db.execute(
            update(UserSession)
            .where(UserSession.token_hash == token_digest(token))
            .values(**values)
        )
        await db.commit()


def session_cookie(response: httpx.Response, name: str = COOKIE) -> str:
    """The Set-Cookie header that sets the session cookie."""
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def attributes(set_cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in set_cookie.split(";")]
    pairs = [p.partition("=") for p in parts[1:]]
    return {name.lower(): value for name, _, value in pairs}


def cleared(response: httpx.Response, name: str = COOKIE) -> bool:
    """Whether the response tells the browser to drop the cookie."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            attrs = attributes(header)
            return attrs.get("max-age") == "0" or header.startswith(f'{name}="";')
    return False


# ---------------------------------------------------------------- signing in


@pytest.mark.promise("P23")
@pytest.mark.parametrize(
    ("who", "home"),
    [("consumer", "/appointments"), ("professional", "/workspace"), ("admin", "/admin")],
)
async def test_sign_in_lands_on_the_home_of_the_role(
    client: httpx.AsyncClient, clinic: Clinic, who: str, home: str
) -> None:
    person = getattr(clinic, who)
    response = await login(client, person.username)
    assert response.headers["location"] == home
    assert (await client.get(home)).status_code == 200
    assert await whoami(client) == person.username


@pytest.mark.promise("P23")
async def test_username_is_not_case_sensitive_at_sign_in(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    await login(client, "  Alpha.CONSUMER ")
    assert await whoami(client) == clinic.consumer.username


async def test_sign_in_goes_back_to_a_safe_next_page(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    refused = await client.get("/account")
    assert refused.status_code == 303
    assert refused.headers["location"] == "/login?next=/account"
    shown = await client.get("/login?next=/account")
    response = await client.post(
        "/login?next=/account",
        data={
            "username": clinic.consumer.username,
            "password": PASSWORD,
            "csrf_token": csrf_in(shown.text),
        },
    )
    assert response.headers["location"] == "/account"

    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        shown = await client.get("/login", params={"next": evil})
        response = await client.post(
            "/login",
            params={"next": evil},
            data={
                "username": clinic.consumer.username,
                "password": PASSWORD,
                "csrf_token": csrf_in(shown.text),
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/appointments"


@pytest.mark.promise("P23")
async def test_accounts_of_one_clinic_cannot_sign_in_at_another(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with client_for(app, other_clinic.host) as beta:
        response = await try_login(beta, clinic.consumer.username)
        assert response.status_code == 401
        assert WRONG_CREDENTIALS in response.text
        api = await api_try_login(beta, clinic.consumer.username)
        assert api.status_code == 401
        await login(beta, other_clinic.consumer.username)
        token = beta.cookies[COOKIE]
    # A session cookie of clinic B means nothing at clinic A.
    assert await whoami(client, **as_cookie(token)) is None


@pytest.mark.promise("P16")
@pytest.mark.promise("P23")
async def test_wrong_password_and_unknown_username_look_the_same(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    wrong = await try_login(client, clinic.consumer.username, "not-the-password-1")
    unknown = await try_login(client, "nobody.here", "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG_CREDENTIALS in wrong.text
    assert "Set-Cookie" not in wrong.headers or COOKIE not in wrong.headers["set-cookie"]
    # Word for word the same page, but for the username typed back into the form.
    assert wrong.text.replace(clinic.consumer.username, "?") == unknown.text.replace(
        "nobody.here", "?"
    )
    assert "not-the-password-1" not in wrong.text

    api_wrong = await api_try_login(client, clinic.consumer.username, "not-the-password-1")
    api_unknown = await api_try_login(client, "nobody.here", "not-the-password-1")
    assert api_wrong.status_code == api_unknown.status_code == 401
    assert api_wrong.json() == api_unknown.json()
    assert api_wrong.json()["error"] == {
        "code": "wrong_credentials",
        "message": WRONG_CREDENTIALS,
        "fields": {},
    }
    assert await whoami(client) is None


async def test_inactive_account_cannot_sign_in_and_its_sessions_end(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.consumer.username)
    async with rt.database.writing(clinic.tenant.id) as db:
        await db.execute(update(User).where(User.id == clinic.consumer.id).values(is_active=False))
        await db.commit()
    assert await whoami(client) is None
    async with client_for(app, clinic.host) as other:
        response = await try_login(other, clinic.consumer.username)
        assert response.status_code == 401
        assert WRONG_CREDENTIALS in response.text


@pytest.mark.promise("P23")
async def test_login_form_needs_both_fields(client: httpx.AsyncClient, clinic: Clinic) -> None:
    response = await try_login(client, "", "")
    assert response.status_code == 422
    assert 'id="f-username-error">This field is required.' in response.text
    assert 'id="f-password-error">This field is required.' in response.text
    assert await whoami(client) is None


# ---------------------------------------------------------------- lockout (P16)


@pytest.mark.promise("P16")
@pytest.mark.promise("P23")
async def test_five_failures_lock_the_account_even_with_the_right_password(
    app: Any, client: httpx.AsyncClient, clinic: Clinic
) -> None:
    name = clinic.consumer.username
    for attempt in range(5):
        response = await try_login(client, name, f"wrong-password-{attempt}")
        assert response.status_code == 401, attempt
    locked = await try_login(client, name, PASSWORD)
    assert locked.status_code == 429
    assert LOCKED in locked.text
    wait = int(locked.headers["Retry-After"])
    assert 800 < wait <= 900  # LOGIN_LIMIT_PER_ACCOUNT: 5 per 15 minutes
    assert await whoami(client) is None
    assert COOKIE not in locked.headers.get("set-cookie", "")

    # Whatever the case or the way in (API, another browser), the account stays locked.
    async with client_for(app, clinic.host) as other:
        again = await try_login(other, name.upper(), PASSWORD)
        assert again.status_code == 429
        api = await api_try_login(other, name, PASSWORD)
        assert api.status_code == 429
        assert api.json()["error"]["code"] == "too_many_attempts"
        assert api.json()["error"]["message"].startswith(LOCKED)
        assert 0 < int(api.headers["Retry-After"]) <= 900
        assert await whoami(other) is None

        # Other accounts are not affected.
        await login(other, clinic.professional.username)
        assert await whoami(other) == clinic.professional.username


@pytest.mark.promise("P16")
async def test_a_username_that_does_not_exist_locks_the_same_way(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    real, ghost = clinic.consumer.username, "ghost.person"
    for name in (real, ghost):
        for attempt in range(5):
            assert (await try_login(client, name, f"wrong-{attempt}-pass")).status_code == 401
    locked_real = await try_login(client, real, PASSWORD)
    locked_ghost = await try_login(client, ghost, PASSWORD)
    assert locked_real.status_code == locked_ghost.status_code == 429
    assert locked_real.text.replace(real, "?") == locked_ghost.text.replace(ghost, "?")
    assert (
        abs(int(locked_real.headers["Retry-After"]) - int(locked_ghost.headers["Retry-After"])) < 5
    )

    api_real = await api_try_login(client, real)
    api_ghost = await api_try_login(client, ghost)
    assert api_real.status_code == api_ghost.status_code == 429
    assert api_real.json() == api_ghost.json()


@pytest.mark.promise("P16")
async def test_api_failures_lock_the_account_for_the_form_too(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    name = clinic.admin.username
    for attempt in range(5):
        response = await api_try_login(client, name, f"wrong-{attempt}-pass")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "wrong_credentials"
    locked = await api_try_login(client, name)
    assert locked.status_code == 429
    assert "Retry-After" in locked.headers
    assert (await try_login(client, name)).status_code == 429
    # Other accounts are not affected.
    assert (await api_try_login(client, clinic.consumer.username)).status_code == 200


@pytest.mark.promise("P16")
async def test_a_successful_sign_in_forgives_earlier_mistakes(app: Any, clinic: Clinic) -> None:
    """An honest user who mistypes a few times, then gets it right, is never locked out."""
    name = clinic.consumer.username
    for _round in range(3):
        async with client_for(app, clinic.host) as http:
            for attempt in range(4):
                assert (await try_login(http, name, f"typo-{attempt}-password")).status_code == 401
            await login(http, name)


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The sign-in throttle's clock, and its memory storage's (``limits`` reads time.time)."""
    fake = Clock()
    monkeypatch.setattr(rt.throttle, "clock", fake.time)
    monkeypatch.setattr("limits.aio.storage.memory.time", fake)
    return fake


@pytest.mark.promise("P16")
@pytest.mark.parametrize("settings_overrides", [{"LOGIN_LIMIT_PER_ACCOUNT": "3/2 seconds"}])
async def test_lockout_ends_when_the_window_passes(
    client: httpx.AsyncClient, clinic: Clinic, clock: Clock
) -> None:
    name = clinic.consumer.username
    for attempt in range(3):  # failures at 0, 0.5 and 1 seconds
        assert (await try_login(client, name, f"wrong-{attempt}-pass")).status_code == 401
        clock.advance(0.5)
    locked = await try_login(client, name)
    assert locked.status_code == 429
    wait = int(locked.headers["Retry-After"])
    assert 1 <= wait <= 2
    clock.advance(0.4)  # 1.9 s: all three failures are still inside the 2 s window
    assert (await try_login(client, name)).status_code == 429
    clock.advance(0.2)  # 2.1 s: the first has left it (a refused attempt is not counted)
    await login(client, name)
    assert await whoami(client) == name


@pytest.mark.promise("P16")
@pytest.mark.parametrize("settings_overrides", [{"LOGIN_LIMIT_PER_CLIENT": "6/minute"}])
async def test_one_client_guessing_many_usernames_is_slowed(app: Any, clinic: Clinic) -> None:
    async with (
        client_from(app, clinic.host, "198.51.100.7") as guesser,
        client_from(app, clinic.host, "203.0.113.9") as honest,
    ):
        for n in range(6):
            assert (await try_login(guesser, f"guess.{n}", "password-guess")).status_code == 401
        blocked = await try_login(guesser, clinic.consumer.username)
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) > 0
        # Somebody else, elsewhere, signs in to the same account as usual.
        await login(honest, clinic.consumer.username)
        assert await whoami(honest) == clinic.consumer.username


# ---------------------------------------------------------------- the same on Redis


@pytest.mark.promise("P16")
@pytest.mark.parametrize("settings_overrides", [{"RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379"}])
async def test_lockout_in_redis_holds_across_app_processes(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, settings: Settings, rt: Runtime
) -> None:
    name = clinic.consumer.username
    realm = str(clinic.tenant.id)  # a new random id each run: keys of no one else
    try:
        for attempt in range(5):
            assert (await try_login(client, name, f"wrong-{attempt}-pass")).status_code == 401
        assert (await try_login(client, name)).status_code == 429

        # A second app process, sharing only the settings (database and Redis).
        second = create_app(settings, access_log=False)
        async with (
            second.router.lifespan_context(second),
            client_for(second, clinic.host) as elsewhere,
        ):
            try:
                refused = await try_login(elsewhere, name)
                assert refused.status_code == 429
                assert 0 < int(refused.headers["Retry-After"]) <= 900
                await login(elsewhere, clinic.admin.username)
            finally:
                await second.state.runtime.throttle.close()

        # Forgetting the counters (an unlock) lets the account in again.
        await rt.throttle.forget(realm, name, "127.0.0.1")
        await login(client, name)
    finally:
        for who in (name, clinic.admin.username):
            await rt.throttle.forget(realm, who, "127.0.0.1")
        await rt.throttle.close()  # Runtime.close() does not close it (yet)


# ---------------------------------------------------------------- sessions (P24)


@pytest.mark.promise("P24")
async def test_logout_deletes_the_session_on_the_server(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.consumer.username)
    token = client.cookies[COOKIE]
    rows = await session_rows(rt, clinic, clinic.consumer.id)
    assert [r.token_hash for r in rows] == [token_digest(token)]
    assert token not in {r.token_hash for r in rows}  # only the hash is stored

    page = await client.get("/appointments")
    response = await client.post("/logout", data={"csrf_token": csrf_in(page.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert cleared(response)
    assert await session_rows(rt, clinic, clinic.consumer.id) == []

    # A copy of the old cookie, replayed from anywhere, is worth nothing now.
    async with client_for(app, clinic.host) as thief:
        assert await whoami(thief, **as_cookie(token)) is None
        replay = await thief.get("/appointments", headers=as_cookie(token))
        assert replay.status_code == 303
        assert replay.headers["location"].startswith("/login")
        assert cleared(replay)


@pytest.mark.promise("P24")
async def test_api_logout_deletes_the_session_on_the_server(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    headers = await api_login(client, clinic.consumer.username)
    token = client.cookies[COOKIE]
    response = await client.post("/api/v1/auth/logout", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert await session_rows(rt, clinic, clinic.consumer.id) == []
    async with client_for(app, clinic.host) as thief:
        assert await whoami(thief, **as_cookie(token)) is None


@pytest.mark.promise("P24")
async def test_log_out_everywhere_ends_every_session_of_the_user(
    app: Any, clinic: Clinic, rt: Runtime
) -> None:
    me = clinic.consumer.username
    async with (
        client_for(app, clinic.host) as laptop,
        client_for(app, clinic.host) as phone,
        client_for(app, clinic.host) as tablet,
        client_for(app, clinic.host) as someone_else,
    ):
        await login(laptop, me)
        await login(phone, me)
        await api_login(tablet, me)
        await login(someone_else, clinic.professional.username)
        assert len(await session_rows(rt, clinic, clinic.consumer.id)) == 3
        page = await laptop.get("/account")
        assert "signed in on 3 devices" in page.text

        response = await laptop.post("/logout/everywhere", data={"csrf_token": csrf_in(page.text)})
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert cleared(response)

        assert await session_rows(rt, clinic, clinic.consumer.id) == []
        for device in (laptop, phone, tablet):
            assert await whoami(device) is None
        assert (await phone.get("/account")).status_code == 303
        # Only this user's sessions ended.
        assert await whoami(someone_else) == clinic.professional.username


@pytest.mark.promise("P24")
async def test_api_log_out_everywhere(app: Any, clinic: Clinic, rt: Runtime) -> None:
    async with (
        client_for(app, clinic.host) as one,
        client_for(app, clinic.host) as two,
    ):
        headers = await api_login(one, clinic.admin.username)
        await login(two, clinic.admin.username)
        response = await one.post("/api/v1/auth/logout-everywhere", headers=headers)
        assert response.status_code == 200
        assert await whoami(two) is None
        assert await whoami(one) is None
        assert await session_rows(rt, clinic, clinic.admin.id) == []


@pytest.mark.promise("P24")
async def test_idle_session_ends(client: httpx.AsyncClient, clinic: Clinic, rt: Runtime) -> None:
    await login(client, clinic.consumer.username)
    token = client.cookies[COOKIE]
    idle = timedelta(minutes=rt.settings.session_idle_minutes)

    # Just inside the idle limit: still signed in, and the activity is noted.
    await set_session(rt, clinic, token, last_seen_at=utcnow() - idle + timedelta(seconds=30))
    before = utcnow()
    assert (await client.get("/account")).status_code == 200
    row = await session_row(rt, clinic, token)
    assert row is not None and row.last_seen_at >= before - timedelta(seconds=1)

    # Beyond it: signed out, on the page and in the API, and the cookie is dropped.
    await set_session(rt, clinic, token, last_seen_at=utcnow() - idle - timedelta(seconds=1))
    response = await client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account"
    assert cleared(response)
    assert await whoami(client, **as_cookie(token)) is None


@pytest.mark.promise("P24")
async def test_session_ends_at_its_absolute_expiry_however_active(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    response = await login(client, clinic.consumer.username)
    token = client.cookies[COOKIE]
    row = await session_row(rt, clinic, token)
    assert row is not None
    lifetime = timedelta(hours=rt.settings.session_absolute_hours)
    assert abs(row.expires_at - row.created_at - lifetime) < timedelta(seconds=1)
    assert attributes(session_cookie(response))["max-age"] == str(int(lifetime.total_seconds()))

    await set_session(rt, clinic, token, expires_at=utcnow() - timedelta(seconds=1))
    assert (await client.get("/account")).status_code == 303
    assert await whoami(client, **as_cookie(token)) is None


@pytest.mark.promise("P24")
async def test_activity_is_noted_at_most_once_a_minute(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.consumer.username)
    token = client.cookies[COOKIE]

    recent = utcnow() - timedelta(seconds=20)
    await set_session(rt, clinic, token, last_seen_at=recent)
    assert (await client.get("/account")).status_code == 200
    row = await session_row(rt, clinic, token)
    assert row is not None and abs(row.last_seen_at - recent) < timedelta(milliseconds=1)

    older = utcnow() - timedelta(minutes=5)
    await set_session(rt, clinic, token, last_seen_at=older)
    before = utcnow()
    assert await whoami(client) == clinic.consumer.username  # the API notes it too
    row = await session_row(rt, clinic, token)
    assert row is not None and row.last_seen_at >= before - timedelta(seconds=1)


@pytest.mark.promise("P24")
async def test_expired_sessions_are_purged(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.consumer.username)
    stale = client.cookies[COOKIE]
    async with client_for(app, clinic.host) as fresh:
        await login(fresh, clinic.consumer.username)
        live = fresh.cookies[COOKIE]
    await set_session(rt, clinic, stale, last_seen_at=utcnow() - timedelta(days=1))
    async with rt.database.writing(clinic.tenant.id) as db:
        await rt.user_sessions.purge_expired(db)
        await db.commit()
    assert await session_row(rt, clinic, stale) is None
    assert await session_row(rt, clinic, live) is not None


@pytest.mark.promise("P24")
async def test_a_new_session_token_at_every_sign_in(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    """Session fixation: a token known before sign-in is never the one that is signed in."""
    await login(client, clinic.consumer.username)
    first = client.cookies[COOKIE]
    await login(client, clinic.admin.username)
    second = client.cookies[COOKIE]
    assert second != first
    assert await session_row(rt, clinic, first) is None  # the old one is gone, not reused
    async with client_for(app, clinic.host) as thief:
        assert await whoami(thief, **as_cookie(first)) is None
    assert await whoami(client) == clinic.admin.username

    # Through the API too (signed in, the browser proves the request with its CSRF token).
    csrf = (await client.get("/api/v1/me")).json()["csrf_token"]
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": clinic.consumer.username, "password": PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 200
    third = client.cookies[COOKIE]
    assert third not in (first, second)
    assert await session_row(rt, clinic, second) is None
    assert await whoami(client) == clinic.consumer.username
    assert response.json()["csrf_token"] != csrf  # bound to the new session


@pytest.mark.promise("P24")
async def test_made_up_or_oversized_cookies_are_ignored(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    for value in ("made-up-token", "x" * 5000, ""):
        assert await whoami(client, **as_cookie(value)) is None
        response = await client.get("/account", headers=as_cookie(value))
        assert response.status_code == 303


@pytest.mark.promise("P24")
async def test_session_cookie_attributes(client: httpx.AsyncClient, clinic: Clinic) -> None:
    response = await login(client, clinic.consumer.username)
    header = session_cookie(response)
    attrs = attributes(header)
    assert "httponly" in attrs
    assert attrs["samesite"].lower() == "lax"
    assert attrs["path"] == "/"
    assert "domain" not in attrs
    assert "secure" not in attrs  # plain http is allowed in local use and tests only
    token = header.split(";", 1)[0].split("=", 1)[1]
    assert len(token) >= 43  # 32 random bytes


@pytest.mark.promise("P24")
@pytest.mark.parametrize("settings_overrides", [{"PRAXIS_ENV": "production", **PLATFORM_RELAY}])
async def test_production_cookies_are_secure_and_host_only(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    assert rt.settings.env == "production"
    https = f"https://{clinic.host}"
    shown = await client.get(f"{https}/login")
    csrf_cookie = [c for c in shown.headers.get_list("set-cookie") if "praxis_csrf" in c]
    assert csrf_cookie and csrf_cookie[0].startswith("__Host-praxis_csrf=")
    assert "secure" in attributes(csrf_cookie[0])

    response = await client.post(
        f"{https}/login",
        data={
            "username": clinic.consumer.username,
            "password": PASSWORD,
            "csrf_token": csrf_in(shown.text),
        },
    )
    assert response.status_code == 303, response.text
    header = session_cookie(response, "__Host-praxis_session")
    attrs = attributes(header)
    assert "secure" in attrs
    assert "httponly" in attrs
    assert attrs["path"] == "/"
    assert attrs["samesite"].lower() == "lax"
    assert "domain" not in attrs  # __Host- cookies must not name a domain
    assert "strict-transport-security" in response.headers

    me = await client.get(f"{https}/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == clinic.consumer.username
    # The unprefixed name is not read in production.
    token = client.cookies["__Host-praxis_session"]
    async with client_for(app, clinic.host) as other:
        plain = await other.get(f"{https}/api/v1/me", headers=as_cookie(token))
        assert plain.status_code == 401
        prefixed = await other.get(
            f"{https}/api/v1/me", headers=as_cookie(token, "__Host-praxis_session")
        )
        assert prefixed.status_code == 200


# ---------------------------------------------------------------- the platform operator


@pytest.fixture
async def platform(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, "localhost") as http:
        yield http


async def operator_sessions(rt: Runtime, operator_id: uuid.UUID) -> int:
    async with rt.database.reading() as db:
        query = select(func.count()).select_from(OperatorSession)
        return int(await db.scalar(query.where(OperatorSession.operator_id == operator_id)) or 0)


@pytest.mark.promise("P23")
@pytest.mark.promise("P24")
async def test_operator_signs_in_and_out_on_the_platform_site(
    app: Any, platform: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    ops = await make_operator(rt)
    assert (await platform.get("/platform")).headers["location"] == "/platform/login?next=/platform"

    response = await login(platform, ops.username, prefix="/platform")
    assert response.headers["location"] == "/platform"
    home = await platform.get("/platform")
    assert home.status_code == 200
    assert "Alpha Clinic" in home.text
    token = platform.cookies[COOKIE]
    assert await operator_sessions(rt, ops.id) == 1

    # The operator's cookie means nothing on a tenant site, nor a tenant's on the platform.
    async with client_for(app, clinic.host) as tenant_site:
        assert await whoami(tenant_site, **as_cookie(token)) is None
        assert (await try_login(tenant_site, ops.username)).status_code == 401
    wrong_site = await try_login(platform, clinic.admin.username, prefix="/platform")
    assert wrong_site.status_code == 401

    response = await platform.post("/platform/logout", data={"csrf_token": csrf_in(home.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/platform"
    assert await operator_sessions(rt, ops.id) == 0
    async with client_for(app, "localhost") as thief:
        replay = await thief.get("/platform", headers=as_cookie(token))
        assert replay.status_code == 303
        assert replay.headers["location"].startswith("/platform/login")


@pytest.mark.promise("P16")
async def test_operator_lockout(platform: httpx.AsyncClient, rt: Runtime) -> None:
    ops = await make_operator(rt)
    for attempt in range(5):
        wrong = await try_login(platform, ops.username, f"wrong-{attempt}-pass", prefix="/platform")
        assert wrong.status_code == 401
        assert WRONG_CREDENTIALS in wrong.text
    locked = await try_login(platform, ops.username, prefix="/platform")
    assert locked.status_code == 429
    assert "Retry-After" in locked.headers
    assert COOKIE not in platform.cookies


@pytest.mark.promise("P24")
async def test_operator_logs_out_everywhere(app: Any, rt: Runtime) -> None:
    ops = await make_operator(rt)
    async with client_for(app, "localhost") as one, client_for(app, "localhost") as two:
        await login(one, ops.username, prefix="/platform")
        await login(two, ops.username, prefix="/platform")
        assert await operator_sessions(rt, ops.id) == 2
        page = await one.get("/platform")
        response = await one.post(
            "/platform/logout/everywhere", data={"csrf_token": csrf_in(page.text)}
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/platform/login"
        assert await operator_sessions(rt, ops.id) == 0
        assert (await two.get("/platform")).status_code == 303


# ---------------------------------------------------------------- CSRF


async def test_form_post_without_or_with_a_wrong_csrf_token_changes_nothing(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    async def count() -> int:
        async with rt.database.reading(clinic.tenant.id) as db:
            return int(await db.scalar(select(func.count()).select_from(User)) or 0)

    before = await count()
    await client.get("/register")  # the browser has its CSRF cookie
    for token in (None, "", "forged-token", "A" * 43):
        data = person_fields(f"csrf.{len(token or '')}")
        if token is not None:
            data["csrf_token"] = token
        response = await client.post("/register", data=data)
        assert response.status_code == 400
        assert "This form has expired" in response.text
    assert await count() == before

    login_data = {"username": clinic.consumer.username, "password": PASSWORD}
    response = await client.post("/login", data=login_data)
    assert response.status_code == 400
    assert await whoami(client) is None


async def test_csrf_token_is_bound_to_the_browser_and_the_session(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    # A token from another browser does not work here.
    async with client_for(app, clinic.host) as attacker:
        foreign = csrf_in((await attacker.get("/login")).text)
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": clinic.consumer.username, "password": PASSWORD, "csrf_token": foreign},
    )
    assert response.status_code == 400

    # The token of the signed-out page does not work once signed in.
    anonymous = csrf_in((await client.get("/login")).text)
    await login(client, clinic.consumer.username)
    response = await client.post("/logout", data={"csrf_token": anonymous})
    assert response.status_code == 400
    assert await whoami(client) == clinic.consumer.username

    # Without the CSRF cookie, the right-looking token is refused too.
    token = csrf_in((await client.get("/account")).text)
    session = client.cookies[COOKIE]
    response = await client.post("/logout", data={"csrf_token": token}, headers=as_cookie(session))
    assert response.status_code == 400


@pytest.mark.promise("P24")
async def test_logout_without_csrf_token_keeps_the_session(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.consumer.username)
    for path in ("/logout", "/logout/everywhere"):
        response = await client.post(path, data={"csrf_token": "nope"})
        assert response.status_code == 400
        response = await client.post(path)
        assert response.status_code == 400
    assert len(await session_rows(rt, clinic, clinic.consumer.id)) == 1
    assert await whoami(client) == clinic.consumer.username


async def test_api_with_a_session_cookie_needs_the_csrf_header(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    headers = await api_login(client, clinic.consumer.username)
    for sent in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
        response = await client.post("/api/v1/auth/logout", headers=sent)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "csrf_failed"
    assert len(await session_rows(rt, clinic, clinic.consumer.id)) == 1
    assert await whoami(client) == clinic.consumer.username

    # A signed-in browser cannot be made to register (or sign in) someone else either.
    response = await client.post("/api/v1/consumers", json=person_fields("forged.signup"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"

    # GET /me gives the token again; it works.
    token = (await client.get("/api/v1/me")).json()["csrf_token"]
    assert token == headers["X-CSRF-Token"]
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 200


async def test_anonymous_api_posts_must_be_json(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    async def count() -> int:
        async with rt.database.reading(clinic.tenant.id) as db:
            return int(await db.scalar(select(func.count()).select_from(User)) or 0)

    before = await count()
    response = await client.post(
        "/api/v1/auth/login",
        data={"username": clinic.consumer.username, "password": PASSWORD},
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert COOKIE not in client.cookies

    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        response = await client.post(
            "/api/v1/consumers",
            content=json.dumps(person_fields("not.json")),
            headers={"Content-Type": content_type},
        )
        assert response.status_code == 415, content_type
    assert await count() == before
    bad = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_json"


@pytest.mark.promise("P16")
async def test_a_lockout_by_someone_else_spares_a_browser_the_owner_signed_in_with(
    app: Any, clinic: Clinic
) -> None:
    name = clinic.consumer.username
    owner = client_from(app, clinic.host, "192.0.2.10")
    await login(owner, name)  # this browser now holds the account's device cookie
    await post_form(owner, "/logout", {}, page="/account")
    attacker = client_from(app, clinic.host, "198.51.100.7")
    for attempt in range(5):
        assert (await try_login(attacker, name, f"guess-{attempt}")).status_code == 401
    assert (await try_login(attacker, name, PASSWORD)).status_code == 429  # locked for them
    assert (await try_login(client_from(app, clinic.host, "192.0.2.99"), name)).status_code == 429

    assert (await try_login(owner, name)).status_code == 303  # the owner still gets in
    assert await whoami(owner) == name
    # The cookie is this account's alone: it does not open another locked account.
    other = clinic.professional.username
    for attempt in range(5):
        await try_login(attacker, other, f"guess-{attempt}")
    assert (await try_login(owner, other)).status_code == 429
    # Wrong passwords from the owner's browser lock that browser, not more.
    await post_form(owner, "/logout", {}, page="/account")
    for attempt in range(5):
        assert (await try_login(owner, name, f"typo-{attempt}")).status_code == 401
    assert (await try_login(owner, name)).status_code == 429
