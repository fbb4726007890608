"""Operators sign in to the platform through the platform's own OpenID provider (PLATFORM_OIDC_*),
against a local provider on 127.0.0.1: the same flow and checks as clinic staff get
(tests/functional/test_staff_sign_in.py), matched to an active operator by verified email,
each failure a clear page with no session made."""

from __future__ import annotations

from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update

from praxis.core.accounts import security_log
from praxis.core.accounts.models import Operator, OperatorSession
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.test_mfa import code, enrol, give_code
from tests.functional.test_pages_quality import check_page
from tests.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    FAULTS,
    OpenIdProvider,
    through_provider,
)
from tests.support import Clinic, Person, login, make_operator, post_form

PLATFORM = "localhost"
DOMAIN = "example.org"  # make_operator's operator is ops@example.org
MULTI_FACTOR = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"


@pytest.fixture
def settings_overrides(op_url: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The platform's provider is the local one; a test may add settings of its own."""
    return {
        "PLATFORM_OIDC_ISSUER": op_url,
        "PLATFORM_OIDC_CLIENT_ID": CLIENT_ID,
        "PLATFORM_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PLATFORM_OIDC_EMAIL_DOMAIN": DOMAIN,
        **getattr(request, "param", {}),
    }


@pytest.fixture
async def operator(rt: Runtime, op: OpenIdProvider) -> Person:
    made = await make_operator(rt)
    op.email = f"ops@{DOMAIN}"
    return made


class Recorder:
    """Stands in for the platform's log: what would have been written, and how."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))


@pytest.fixture
def platform_log(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(security_log, "platform_log", recorder)
    return recorder


async def counts(rt: Runtime) -> tuple[int, int]:
    """Operators' sessions, and operators: neither may change on a refusal."""
    async with rt.database.reading() as db:
        sessions = await db.scalar(select(func.count()).select_from(OperatorSession))
        operators = await db.scalar(select(func.count()).select_from(Operator))
    return int(sessions or 0), int(operators or 0)


async def test_an_operator_signs_in_through_the_platforms_provider(
    app: Any, rt: Runtime, op: OpenIdProvider, operator: Person, platform_log: Recorder
) -> None:
    op.email = "OPS@Example.ORG"  # the provider's spelling; matched without regard to case
    async with client_for(app, PLATFORM) as http:
        page = await http.get("/platform/login")
        check_page(page.text, "/platform/login")
        assert "Operators: sign in with your organisation's account" in unescape(page.text)
        assert 'href="/platform/login/sso"' in page.text
        started = await http.get("/platform/login/sso")
        query = parse_qs(urlsplit(started.headers["location"]).query)
        assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
        assert query["client_id"] == [CLIENT_ID]
        assert query["redirect_uri"] == ["http://localhost/platform/login/sso/callback"]
    async with client_for(app, PLATFORM) as http:
        back = await through_provider(http, "/platform")
        assert back.status_code == 303 and back.headers["location"] == "/platform"
        assert (await http.get("/platform")).status_code == 200
    assert op.tokens_issued == 1
    assert await counts(rt) == (1, 1)
    assert platform_log.lines == [
        (
            "operator_security_event",
            {"kind": "signed_in", "operator_id": str(operator.id), "via": "provider"},
        )
    ]


@pytest.mark.parametrize(
    ("amr", "acr", "asserted"),
    [
        (["pwd"], None, False),
        (["pwd"], "urn:vendor:loa:2fa:any:ifpossible", False),  # not a promise of two factors
        (["pwd", "mfa"], None, True),
        (["pwd", "otp"], None, True),
        (["pwd"], MULTI_FACTOR, True),
    ],
)
async def test_the_platforms_second_step_applies_unless_the_provider_asserts_one(
    app: Any,
    op: OpenIdProvider,
    operator: Person,
    amr: list[str],
    acr: str | None,
    asserted: bool,
) -> None:
    async with client_for(app, PLATFORM) as setup:
        await login(setup, operator.username, prefix="/platform")
        secret = await enrol(setup, prefix="/platform")
    op.amr, op.acr = amr, acr
    async with client_for(app, PLATFORM) as http:
        back = await through_provider(http, "/platform")
        if asserted:
            assert back.headers["location"] == "/platform"
        else:
            assert back.headers["location"] == "/platform/login/code?next=/platform"
            assert (await http.get("/platform")).status_code == 303  # not yet
            answer = code(secret, steps_ahead=1)
            given = await give_code(http, answer, prefix="/platform", next_url="/platform")
            assert given.status_code == 303
        assert (await http.get("/platform")).status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"STAFF_MFA_REQUIRED": True}], indirect=True)
async def test_an_operator_without_two_step_is_sent_to_set_it_up(
    app: Any, op: OpenIdProvider, operator: Person
) -> None:
    async with client_for(app, PLATFORM) as http:
        back = await through_provider(http, "/platform")
        assert back.headers["location"] == "/platform/account/security"
        assert (await http.get("/platform")).status_code == 303
        assert (await http.get("/platform/account/security")).status_code == 200


@pytest.mark.parametrize("fault", FAULTS)
async def test_an_id_token_that_cannot_be_trusted_signs_no_operator_in(
    app: Any, rt: Runtime, op: OpenIdProvider, operator: Person, platform_log: Recorder, fault: str
) -> None:
    op.fault = fault
    before = await counts(rt)
    async with client_for(app, PLATFORM) as http:
        back = await through_provider(http, "/platform")
        assert back.status_code == 400
        check_page(back.text, "/platform/login/sso/callback")
        assert "could not be trusted" in back.text and "Nothing was changed" in back.text
        assert 'href="/platform/login"' in back.text  # back to the platform's sign-in
        assert (await http.get("/platform")).status_code == 303
    assert await counts(rt) == before
    assert platform_log.lines == []


UNKNOWN = "No active operator uses that email address"


@pytest.mark.parametrize(
    ("email", "verified", "active", "reason"),
    [
        (f"ops@{DOMAIN}", False, True, "did not confirm your email"),
        ("ops@elsewhere.example", True, True, f"Only addresses at {DOMAIN} may sign in here"),
        (f"nobody@{DOMAIN}", True, True, UNKNOWN),
        (f"ops@{DOMAIN}", True, False, UNKNOWN),  # told as an unknown operator is
    ],
    ids=["unverified", "foreign", "unknown", "inactive"],
)
async def test_an_operator_the_platform_cannot_vouch_for_is_not_signed_in(
    app: Any,
    rt: Runtime,
    op: OpenIdProvider,
    operator: Person,
    email: str,
    verified: bool,
    active: bool,
    reason: str,
) -> None:
    op.email, op.email_verified = email, verified
    async with rt.database.writing() as db:
        await db.execute(
            update(Operator).where(Operator.id == operator.id).values(is_active=active)
        )
        await db.commit()
    before = await counts(rt)
    async with client_for(app, PLATFORM) as http:
        back = await through_provider(http, "/platform")
        assert back.status_code == 400 and reason in unescape(back.text)
        assert (await http.get("/platform")).status_code == 303
    assert await counts(rt) == before


async def test_a_callback_without_the_flow_it_started_is_refused(
    app: Any, rt: Runtime, op: OpenIdProvider, operator: Person
) -> None:
    """A link from someone else's sign-in (login CSRF), or a replayed one, signs nobody in."""
    async with client_for(app, PLATFORM) as victim, client_for(app, PLATFORM) as attacker:
        started = await attacker.get("/platform/login/sso")
        async with httpx.AsyncClient() as browser_at_provider:
            answered = await browser_at_provider.get(started.headers["location"])
        back = urlsplit(answered.headers["location"])
        refused = await victim.get(f"{back.path}?{back.query}")
        assert refused.status_code == 400 and "Start again" in refused.text
    assert await counts(rt) == (0, 1)


async def test_a_clinics_flow_does_not_finish_on_the_platform(
    app: Any, rt: Runtime, clinic: Clinic, op: OpenIdProvider, op_url: str, operator: Person
) -> None:
    """The flow cookie is sealed for its site: one started at a clinic opens nowhere else."""
    from tests.functional.test_staff_sign_in import details, set_up

    assert (await set_up(app, clinic, details(op_url))).status_code == 303
    async with client_for(app, clinic.host) as at_clinic:
        started = await at_clinic.get("/login/sso")
        flow_cookie = at_clinic.cookies["praxis_sign_in_flow"]
    async with httpx.AsyncClient() as browser_at_provider:
        answered = await browser_at_provider.get(started.headers["location"])
    query = urlsplit(answered.headers["location"]).query
    async with client_for(app, PLATFORM) as http:
        http.cookies.set("praxis_sign_in_flow", flow_cookie)
        refused = await http.get(f"/platform/login/sso/callback?{query}")
        assert refused.status_code == 400 and "Start again" in refused.text
    assert await counts(rt) == (0, 1)


async def test_a_clinics_site_does_not_serve_the_platforms_sign_in(
    app: Any, clinic: Clinic, op: OpenIdProvider, operator: Person
) -> None:
    async with client_for(app, clinic.host) as http:
        for path in ("/platform/login/sso", "/platform/login/sso/callback?code=x&state=y"):
            assert (await http.get(path)).status_code == 404, path
        assert "Operators:" not in (await http.get("/login")).text
    assert op.tokens_issued == 0


async def test_a_provider_that_does_not_answer_is_a_clear_page(
    app: Any, rt: Runtime, operator: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert rt.platform_provider is not None
    gone = type(rt.platform_provider)(
        issuer="http://127.0.0.1:9", client_id="x", client_secret="y", email_domain=DOMAIN
    )
    monkeypatch.setattr(rt, "platform_provider", gone)
    async with client_for(app, PLATFORM) as http:
        answer = await http.get("/platform/login/sso")
    assert answer.status_code == 400 and "did not answer" in answer.text
    assert await counts(rt) == (0, 1)


async def test_without_the_settings_operators_sign_in_with_a_password_only(
    app: Any, rt: Runtime, op: OpenIdProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the runtime is built without PLATFORM_OIDC_*: no link, and the routes answer 404."""
    monkeypatch.setattr(rt, "platform_provider", None)
    async with client_for(app, PLATFORM) as http:
        assert "/platform/login/sso" not in (await http.get("/platform/login")).text
        assert (await http.get("/platform/login/sso")).status_code == 404
        assert (await http.get("/platform/login/sso/callback?code=x&state=y")).status_code == 404
    assert op.tokens_issued == 0


async def test_password_sign_ins_of_operators_reach_the_platforms_log(
    app: Any, operator: Person, platform_log: Recorder
) -> None:
    """Operators are in no clinic's security log: their sign-ins, failures too, are lines of
    the platform's log, by id only (a username that matches no operator is not kept)."""
    async with client_for(app, PLATFORM) as http:
        for username in (operator.username, "nobody"):
            wrong = {"username": username, "password": "not-the-password"}
            assert (await post_form(http, "/platform/login", wrong)).status_code == 401
        await login(http, operator.username, prefix="/platform")
    assert [(fields["kind"], fields["operator_id"]) for _, fields in platform_log.lines] == [
        ("sign_in_failed", str(operator.id)),
        ("sign_in_failed", None),
        ("signed_in", str(operator.id)),
    ]
    assert all(fields["via"] == "portal" for _, fields in platform_log.lines)
