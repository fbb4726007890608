"""Where two-step sign-in is required, a sign-in whose provider asserted MFA (amr/acr) is
remembered by its session: someone with no authenticator of ours reaches every page and the API
for that whole session, and for it alone. A provider that asserted nothing, or a later sign-in
with the password, is asked to set up two-step as before; changes that ask for the password
still ask for it (issue 11)."""

from __future__ import annotations

from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core.accounts.models import OperatorSession, UserSession
from praxis.core.crypto import token_digest
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.test_mfa import COOKIE, enrol
from tests.functional.test_pages_quality import check_page
from tests.functional.test_platform_sign_in import PLATFORM, operator  # noqa: F401
from tests.functional.test_staff_sign_in import DOMAIN, details
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OpenIdProvider, through_provider
from tests.support import Clinic, Person, csrf_in, login, post_form

ASSERTED = ["pwd", "mfa"]
BY_PROVIDER = "your sign-in provider asked you for a second step itself"


@pytest.fixture
def settings_overrides(op_url: str) -> dict[str, Any]:
    """Two-step required (as in production); the local provider is the platform's too."""
    return {
        "STAFF_MFA_REQUIRED": True,
        "PLATFORM_OIDC_ISSUER": op_url,
        "PLATFORM_OIDC_CLIENT_ID": CLIENT_ID,
        "PLATFORM_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PLATFORM_OIDC_EMAIL_DOMAIN": DOMAIN,
    }


@pytest.fixture
async def configured(app: Any, clinic: Clinic, op: OpenIdProvider, op_url: str) -> None:
    """The clinic's provider set up by its admin, who must use two-step sign-in first."""
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        await enrol(admin)
        saved = await post_form(admin, "/admin/sign-in", details(op_url))
        assert saved.status_code == 303, saved.text


async def remembered(rt: Runtime, http: httpx.AsyncClient, clinic: Clinic | None) -> bool:
    """What this browser's session row says about who gave the second factor."""
    digest = token_digest(http.cookies[COOKIE])
    if clinic is None:
        async with rt.database.reading() as db:
            row: Any = await db.get(OperatorSession, digest)
    else:
        async with rt.database.reading(clinic.tenant.id) as db:
            query = select(UserSession).where(UserSession.token_hash == digest)
            row = await db.scalar(query)
    assert row is not None
    return bool(row.second_factor_by_provider)


async def sends_to_enrolment(http: httpx.AsyncClient, path: str, prefix: str = "") -> bool:
    answer = await http.get(path)
    return answer.status_code == 303 and answer.headers["location"] == f"{prefix}/account/security"


# ---------------------------------------------------------------- clinic staff


@pytest.mark.usefixtures("configured")
async def test_staff_whose_provider_asserted_mfa_reach_every_page_for_the_whole_session(
    app: Any, rt: Runtime, clinic: Clinic, op: OpenIdProvider
) -> None:
    op.email, op.amr = f"{clinic.professional.username}@{DOMAIN}", ASSERTED
    async with client_for(app, clinic.host) as http:
        back = await through_provider(http)
        assert back.status_code == 303 and back.headers["location"] == "/workspace"
        for path in ("/workspace", "/account", "/workspace", "/account/security"):
            assert (await http.get(path)).status_code == 200, path
        mine = unescape((await http.get("/account")).text)
        assert "your sign-in provider asked for a second step this time" in mine
        assert (await http.get("/api/v1/me")).status_code == 200  # the API honours it too
        assert await remembered(rt, http, clinic)
        security = await http.get("/account/security")
        check_page(security.text, "/account/security")
        assert BY_PROVIDER in unescape(security.text)
        # A later password sign-in of the same person is asked to enrol, as before ...
        async with client_for(app, clinic.host) as with_password:
            signed_in = await login(with_password, clinic.professional.username)
            assert signed_in.headers["location"] == "/account/security"
            assert await sends_to_enrolment(with_password, "/workspace")
            refused = await with_password.get("/api/v1/me")
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "second_factor_setup_required"
            assert not await remembered(rt, with_password, clinic)
        # ... while the provider's session carries on.
        assert (await http.get("/workspace")).status_code == 200


@pytest.mark.usefixtures("configured")
async def test_staff_whose_provider_asserted_nothing_must_set_up_two_step(
    app: Any, rt: Runtime, clinic: Clinic, op: OpenIdProvider
) -> None:
    op.email, op.amr = f"{clinic.professional.username}@{DOMAIN}", ["pwd"]
    async with client_for(app, clinic.host) as http:
        back = await through_provider(http)
        assert back.headers["location"] == "/account/security"
        assert await sends_to_enrolment(http, "/workspace")
        assert await sends_to_enrolment(http, "/account")
        assert (await http.get("/api/v1/me")).status_code == 403
        assert not await remembered(rt, http, clinic)
        security = await http.get("/account/security")
        assert security.status_code == 200 and BY_PROVIDER not in unescape(security.text)


@pytest.mark.usefixtures("configured")
async def test_a_provider_session_still_needs_the_password_for_changes_that_ask_for_it(
    app: Any, rt: Runtime, clinic: Clinic, op: OpenIdProvider
) -> None:
    """What asked for the password before the session was let through still asks for it."""
    op.email, op.amr = f"{clinic.professional.username}@{DOMAIN}", ASSERTED
    async with client_for(app, clinic.host) as http:
        await through_provider(http)
        page = await http.get("/account/security")
        wrong = {"csrf_token": csrf_in(page.text), "current_password": "not-my-password"}
        refused = await http.post("/account/security/start", data=wrong)
        assert refused.status_code == 422 and "<code>" not in refused.text  # no secret shown
        form = {"current_password": "not-my-password", "new_password": "brand-new-passphrase-42"}
        assert (await post_form(http, "/account/password", form)).status_code == 422
        # With the password, the person sets up an authenticator of ours.
        secret = await enrol(http)
        assert secret and (await http.get("/workspace")).status_code == 200
    async with client_for(app, clinic.host) as with_password:
        signed_in = await login(with_password, clinic.professional.username)
        assert signed_in.headers["location"].startswith("/login/code")  # enrolled now


# ---------------------------------------------------------------- operators


async def test_an_operator_whose_provider_asserted_mfa_is_not_sent_to_enrol(
    app: Any,
    rt: Runtime,
    op: OpenIdProvider,
    operator: Person,  # noqa: F811
) -> None:
    op.amr = ASSERTED
    async with client_for(app, PLATFORM) as http:
        back = await through_provider(http, "/platform")
        assert back.status_code == 303 and back.headers["location"] == "/platform"
        for path in ("/platform", "/platform/plugins", "/platform"):
            assert (await http.get(path)).status_code == 200, path
        assert await remembered(rt, http, None)
        security = await http.get("/platform/account/security")
        check_page(security.text, "/platform/account/security")
        assert BY_PROVIDER in unescape(security.text)
        async with client_for(app, PLATFORM) as with_password:
            signed_in = await login(with_password, operator.username, prefix="/platform")
            assert signed_in.headers["location"] == "/platform/account/security"
            assert await sends_to_enrolment(with_password, "/platform", "/platform")
            assert not await remembered(rt, with_password, None)
        assert (await http.get("/platform")).status_code == 200


async def test_an_operator_whose_provider_asserted_nothing_must_set_up_two_step(
    app: Any,
    rt: Runtime,
    op: OpenIdProvider,
    operator: Person,  # noqa: F811
) -> None:
    op.amr = ["pwd"]
    async with client_for(app, PLATFORM) as http:
        back = await through_provider(http, "/platform")
        assert back.headers["location"] == "/platform/account/security"
        assert await sends_to_enrolment(http, "/platform", "/platform")
        assert await sends_to_enrolment(http, "/platform/plugins", "/platform")
        assert not await remembered(rt, http, None)
