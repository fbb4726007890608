"""Staff sign in through the clinic's own OpenID provider (authlib), against a local provider on
127.0.0.1: a good sign-in, and each way a provider's answer can be wrong, refused with a clear
page and nothing created."""

from __future__ import annotations

from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from praxis.core.accounts.security_log import SecurityEvent
from praxis.core.accounts.sessions import UserSession
from praxis.core.identity.models import IdentityProvider
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.test_mfa import code, enrol, give_code
from tests.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    FAULTS,
    OpenIdProvider,
    through_provider,
)
from tests.support import Clinic, login, post_form

DOMAIN = "example.org"  # the test clinics' staff are <username>@example.org


async def set_up(app: Any, clinic: Clinic, fields: dict[str, str]) -> httpx.Response:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        assert 'href="/admin/sign-in"' in (await admin.get("/admin")).text  # found from Admin
        return await post_form(admin, "/admin/sign-in", fields)


def details(op_url: str, **changes: str) -> dict[str, str]:
    return {
        "issuer": op_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "email_domain": DOMAIN,
        "enabled": "on",
        **changes,
    }


@pytest.fixture
async def configured(app: Any, clinic: Clinic, op: OpenIdProvider, op_url: str) -> None:
    saved = await set_up(app, clinic, details(op_url))
    assert saved.status_code == 303, saved.text


async def counts(rt: Runtime, clinic: Clinic) -> tuple[int, int]:
    async with rt.database.reading(clinic.tenant.id) as db:
        sessions = await db.scalar(select(func.count()).select_from(UserSession))
        events = await db.scalar(select(func.count()).select_from(SecurityEvent))
    return int(sessions or 0), int(events or 0)


@pytest.mark.promise("P23")
@pytest.mark.usefixtures("configured")
async def test_a_professional_signs_in_through_the_clinics_provider(
    app: Any, rt: Runtime, clinic: Clinic, op: OpenIdProvider
) -> None:
    op.email = f"{clinic.professional.username}@{DOMAIN}"
    async with client_for(app, clinic.host) as http:
        assert "sign in with your organisation's account" in unescape(
            (await http.get("/login")).text
        )
        started = await http.get("/login/sso")
        query = parse_qs(urlsplit(started.headers["location"]).query)
        assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
        assert query["client_id"] == [CLIENT_ID]
        http.cookies.clear()
        async with client_for(app, clinic.host) as fresh:
            back = await through_provider(fresh)
            assert back.status_code == 303 and back.headers["location"] == "/workspace"
            assert (await fresh.get("/workspace")).status_code == 200
    assert op.tokens_issued == 1


@pytest.mark.usefixtures("configured")
async def test_the_platforms_second_step_applies_unless_the_provider_asserts_one(
    app: Any, clinic: Clinic, op: OpenIdProvider
) -> None:
    async with client_for(app, clinic.host) as setup:
        await login(setup, clinic.professional.username)
        secret = await enrol(setup)
    op.email = f"{clinic.professional.username}@{DOMAIN}"
    async with client_for(app, clinic.host) as http:
        back = await through_provider(http)
        assert back.headers["location"].startswith("/login/code")
        assert (await http.get("/workspace")).status_code in (302, 303)  # not yet
        assert (
            await give_code(http, code(secret, steps_ahead=1), next_url="/workspace")
        ).status_code == 303
        assert (await http.get("/workspace")).status_code == 200
    op.amr = ["pwd", "mfa"]
    async with client_for(app, clinic.host) as http:
        back = await through_provider(http)
        assert back.headers["location"] == "/workspace"


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.usefixtures("configured")
async def test_an_id_token_that_cannot_be_trusted_signs_nobody_in(
    app: Any, rt: Runtime, clinic: Clinic, op: OpenIdProvider, fault: str
) -> None:
    op.email = f"{clinic.professional.username}@{DOMAIN}"
    op.fault = fault
    before = await counts(rt, clinic)
    async with client_for(app, clinic.host) as http:
        back = await through_provider(http)
        assert back.status_code == 400
        assert "could not be trusted" in back.text and "Nothing was changed" in back.text
        assert (await http.get("/workspace")).status_code in (302, 303)
    assert await counts(rt, clinic) == before


@pytest.mark.parametrize(
    ("who", "verified", "reason"),
    [
        ("professional", False, "did not confirm your email"),
        ("foreign", True, f"Only addresses at {DOMAIN} may sign in here"),
        ("unknown", True, "No staff account of this clinic uses that email"),
        ("consumer", True, "No staff account of this clinic uses that email"),
    ],
)
@pytest.mark.usefixtures("configured")
async def test_an_email_the_clinic_cannot_vouch_for_signs_nobody_in(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    op: OpenIdProvider,
    who: str,
    verified: bool,
    reason: str,
) -> None:
    op.email = {
        "professional": f"{clinic.professional.username}@{DOMAIN}",
        "foreign": f"{clinic.professional.username}@elsewhere.example",
        "unknown": f"nobody@{DOMAIN}",
        "consumer": f"{clinic.consumer.username}@{DOMAIN}",
    }[who]
    op.email_verified = verified
    before = await counts(rt, clinic)
    async with client_for(app, clinic.host) as http:
        back = await through_provider(http)
    assert back.status_code == 400 and reason in unescape(back.text)
    assert await counts(rt, clinic) == before


@pytest.mark.usefixtures("configured")
async def test_a_callback_without_the_flow_it_started_is_refused(
    app: Any, rt: Runtime, clinic: Clinic, op: OpenIdProvider, other_clinic: Clinic
) -> None:
    """A link from someone else's sign-in (login CSRF), or a replayed one, signs nobody in."""
    op.email = f"{clinic.professional.username}@{DOMAIN}"
    async with client_for(app, clinic.host) as victim, client_for(app, clinic.host) as attacker:
        started = await attacker.get("/login/sso")
        async with httpx.AsyncClient() as browser_at_provider:
            answered = await browser_at_provider.get(started.headers["location"])
        back = urlsplit(answered.headers["location"])
        refused = await victim.get(f"{back.path}?{back.query}")
        assert refused.status_code == 400 and "Start again" in refused.text
    async with client_for(app, other_clinic.host) as elsewhere:  # not set up there
        assert (await elsewhere.get("/login/sso")).status_code == 404
        assert (await elsewhere.get(f"{back.path}?{back.query}")).status_code == 404


async def test_the_admin_page_refuses_what_cannot_work_and_saves_nothing(
    app: Any, rt: Runtime, clinic: Clinic, op: OpenIdProvider, op_url: str
) -> None:
    wrong = {
        "issuer": ("ftp://accounts.example", "Enter the issuer's address"),
        "email_domain": ("not a domain", "Enter the domain of your staff's email"),
        "client_id": ("", "This field is required"),
    }
    for name, (value, message) in wrong.items():
        answer = await set_up(app, clinic, details(op_url, **{name: value}))
        assert answer.status_code == 422 and message in unescape(answer.text), name
    unreachable = await set_up(app, clinic, details(op_url + "/nowhere"))
    assert unreachable.status_code == 422 and "answered 404" in unreachable.text
    inward = await set_up(app, clinic, details("http://10.0.0.5"))
    assert inward.status_code == 422 and "internal address" in inward.text
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await db.scalar(select(IdentityProvider)) is None
    async with client_for(app, clinic.host) as http:
        assert (await http.get("/login/sso")).status_code == 404
        assert "/login/sso" not in (await http.get("/login")).text


async def test_the_secret_is_sealed_and_kept_when_left_empty(
    app: Any, rt: Runtime, clinic: Clinic, op: OpenIdProvider, op_url: str
) -> None:
    assert (await set_up(app, clinic, details(op_url))).status_code == 303
    async with rt.database.reading(clinic.tenant.id) as db:
        row = await db.scalar(select(IdentityProvider))
        assert row is not None and CLIENT_SECRET not in row.client_secret
        first = row.client_secret
    assert (await set_up(app, clinic, details(op_url, client_secret=""))).status_code == 303
    async with rt.database.reading(clinic.tenant.id) as db:
        row = await db.scalar(select(IdentityProvider))
        assert row is not None and row.client_secret == first
    async with client_for(app, clinic.host) as page_reader:
        await login(page_reader, clinic.admin.username)
        page = await page_reader.get("/admin/sign-in")
    assert CLIENT_SECRET not in page.text and "/login/sso/callback" in page.text


@pytest.mark.usefixtures("configured")
async def test_a_write_elsewhere_while_the_provider_answers_does_not_break_the_sign_in(
    app: Any, rt: Runtime, clinic: Clinic, op: OpenIdProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The callback is a GET that writes. On SQLite a read snapshot that another connection's
    commit has overtaken cannot become a write ("database is locked", found by the browser
    journey with the worker running): the callback ends its read before it writes."""
    from praxis.core.accounts import security_log
    from praxis.core.accounts.security_log import SecurityEventKind
    from praxis.core.web.pages import sso

    finish = sso.oidc.finish

    async def finish_while_the_worker_writes(*args: Any) -> Any:
        identity = await finish(*args)
        async with rt.database.writing(clinic.tenant.id) as db:
            security_log.note(db, SecurityEventKind.PASSWORD_CHANGED, clinic.admin.id)
            await db.commit()
        return identity

    monkeypatch.setattr(sso.oidc, "finish", finish_while_the_worker_writes)
    op.email = f"{clinic.professional.username}@{DOMAIN}"
    async with client_for(app, clinic.host) as http:
        back = await through_provider(http)
        assert back.status_code == 303 and back.headers["location"] == "/workspace"
        assert (await http.get("/workspace")).status_code == 200
