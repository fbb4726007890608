"""Every page: accessible structure, security headers, and logs free of personal data."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select
from starlette.routing import Match, Route

from praxis.core.app import create_app
from praxis.core.booking.models import WeeklyAvailability
from praxis.core.config import Settings
from praxis.core.consents import subscribers
from praxis.core.db import utcnow
from praxis.core.notifications.campaigns import unsubscribe_token
from praxis.core.payments.models import Payment
from praxis.core.privacy.template import DEFAULT_NOTICE
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.flows import answer_intake, appointment, book, free_slot, pay
from tests.functional.test_export import download_link
from tests.functional.test_mfa import code, enrol, start_enrolment
from tests.markup import problems_in
from tests.provider_fixtures import Providers
from tests.support import (
    PASSWORD,
    Clinic,
    csrf_in,
    login,
    make_admin,
    make_consumer,
    make_operator,
    person_fields,
    post_form,
)

PUBLIC = [
    "/",
    "/professionals",
    "/register",
    "/join",
    "/login",
    "/privacy",
    "/privacy/cookies",
    "/news",
]
CONSUMER = [
    "/appointments",
    "/account",
    "/account/security",
    "/account/details",
    "/account/export",
    "/account/close",
    "/account/erase",
    "/account/restrict",
    "/account/requests",
]
PROFESSIONAL = [
    "/workspace",
    "/workspace/diary",
    "/workspace/diary?view=day",
    "/workspace/hours",
    "/workspace/consultations",
    "/workspace/photo",
]
ADMIN = [
    "/admin",
    "/admin/professionals",
    "/admin/appointments",
    "/admin/privacy",
    "/admin/corrections",
    "/admin/corrections/new",
    "/admin/holds",
    "/admin/security",
    "/admin/sign-in",
    "/admin/branding",
    "/admin/retention",
    "/admin/requests",
    "/admin/exit",
    "/admin/analytics",
    "/admin/directory",
    "/admin/staff",
    "/desk",
    "/desk?q=alpha",
    "/desk/patients/new",
]


class Structure(HTMLParser):
    """Collects what an accessibility review checks first."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.labels: set[str] = set()
        self.h1 = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "label" and found.get("for"):
            self.labels.add(str(found["for"]))
        if tag == "h1":
            self.h1 += 1


def check_page(html: str, path: str) -> None:
    page = Structure()
    page.feed(html)
    names = [tag for tag, _ in page.tags]
    html_tag = dict(page.tags[0][1]) if page.tags and page.tags[0][0] == "html" else {}
    assert html_tag.get("lang"), f"{path}: <html> needs a lang"
    for landmark in ("header", "main", "footer", "nav"):
        assert landmark in names, f"{path}: no <{landmark}>"
    assert page.h1 == 1, f"{path}: {page.h1} <h1> elements"
    assert any(t == "a" and a.get("class") == "skip" for t, a in page.tags), f"{path}: skip link"
    for tag, attrs in page.tags:
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            assert attrs.get("id") in page.labels, f"{path}: {tag} {attrs.get('name')} has no label"
        if tag == "img":
            assert "alt" in attrs, f"{path}: <img> without alt"
        if tag == "script":
            raise AssertionError(f"{path}: pages need no scripts")


async def test_every_page_is_accessible_and_safe(app: Any, clinic: Clinic) -> None:
    pro_page = f"/professionals/{clinic.professional_id}"
    book_page = f"{pro_page}/book?type={clinic.kinds['Standard']}"
    visits = [
        (None, [*PUBLIC, pro_page, book_page]),
        (clinic.consumer.username, [*CONSUMER, book_page]),
        (clinic.professional.username, PROFESSIONAL),
        (clinic.admin.username, [*ADMIN, f"/desk/patients/{clinic.consumer.id}"]),
    ]
    for who, paths in visits:
        async with client_for(app, clinic.host) as http:
            if who:
                await login(http, who)
            for path in paths:
                response = await http.get(path)
                assert response.status_code == 200, (who, path)
                check_page(response.text, path)
                headers = response.headers
                assert "script-src 'self'" in headers["content-security-policy"]
                assert "unsafe-inline" not in headers["content-security-policy"]
                assert "frame-ancestors 'none'" in headers["content-security-policy"]
                assert headers["x-content-type-options"] == "nosniff"
                assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
                assert headers["x-request-id"]
                # someone's pages are kept by no cache; public pages may be
                assert ("no-store" in headers.get("cache-control", "")) == bool(who), (who, path)


async def test_platform_pages_are_accessible(app: Any, rt: Any, clinic: Clinic) -> None:
    await make_operator(rt)
    async with client_for(app, "localhost") as http:
        check_page((await http.get("/platform/login")).text, "/platform/login")
        for public in ("/", "/?field=x&mode=video&town=y&within=7", "/contact"):
            check_page((await http.get(public)).text, public)
        await login(http, "ops", prefix="/platform")
        for path in (
            "/platform",
            f"/platform/tenants/{clinic.tenant.id}",
            f"/platform/tenants/{clinic.tenant.id}/exit",
            "/platform/tenants/new",
        ):
            response = await http.get(path)
            assert response.status_code == 200
            check_page(response.text, path)


async def test_form_errors_are_tied_to_their_fields(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/register", person_fields("x", email="nope"))
    assert response.status_code == 422
    check_page(response.text, "/register")
    assert 'aria-invalid="true"' in response.text
    assert 'aria-describedby="f-email-error"' in response.text
    assert 'href="#f-username"' in response.text  # the summary links to the field


@pytest.fixture
async def logged_app(settings: Settings) -> Any:
    application = create_app(settings.model_copy(update={"log_level": "INFO"}), access_log=True)
    async with application.router.lifespan_context(application):
        yield application


async def test_logs_carry_ids_never_personal_data(
    logged_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support import make_tenant

    tenant = await make_tenant(logged_app.state.runtime, "logged")
    secret_bits = ["Priya Secret", "priya.secret@example.org", "+447911123456", "priya", "N1 1AA"]
    capsys.readouterr()
    async with client_for(logged_app, f"{tenant.slug}.localhost") as http:
        form = person_fields("priya", full_name="Priya Secret", email="priya.secret@example.org")
        assert (await post_form(http, "/register?next=/account", form)).status_code == 303
        assert (await http.get("/account?email=priya.secret@example.org")).status_code == 200
        await post_form(http, "/login", {"username": "priya", "password": "wrong-password"})
    output = capsys.readouterr().out
    for bit in secret_bits:
        assert bit not in output, bit
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["event"] == "request"]
    assert len(requests) >= 5
    for line in requests:
        assert {"method", "path", "status", "ms", "request_id", "tenant_id"} <= set(line)
        assert line["tenant_id"] == str(tenant.id)
    account = next(line for line in requests if line["path"] == "/account")
    assert "user_id" in account  # who did it, by id only


@pytest.mark.parametrize("settings_overrides", [{"MAX_BODY_BYTES": 4096}], indirect=True)
async def test_oversized_requests_are_refused_before_anything_changes(
    client: httpx.AsyncClient, clinic: Clinic, rt: Any
) -> None:
    from sqlalchemy import func, select

    from praxis.core.accounts.models import User

    page = await client.get("/register")
    huge = person_fields("bigbody", full_name="x" * 10_000)
    declared = await client.post("/register", data={**huge, "csrf_token": "t"})
    assert declared.status_code == 413

    async def chunks() -> Any:  # no Content-Length: the limit counts what arrives
        yield b"full_name=" + b"y" * 3000
        yield b"&bio=" + b"z" * 3000

    streamed = await client.post(
        "/register",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413
    api = await client.post("/api/v1/consumers", json=huge)
    assert api.status_code == 413 and api.json()["error"]["code"] == "too_large"
    assert "What you sent is too large" in declared.text  # a page a person can act on
    assert page.status_code == 200
    async with rt.database.reading(clinic.tenant.id) as db:
        assert (
            await db.scalar(
                select(func.count()).select_from(User).where(User.username == "bigbody")
            )
            == 0
        )


# --- every page, parsed -----------------------------------------------------------------------


async def first_rule(rt: Runtime, clinic: Clinic) -> Any:
    """One of the Professional's weekly windows, for its edit page."""
    async with rt.database.reading(clinic.tenant.id) as db:
        return await db.scalar(
            select(WeeklyAvailability.id).where(
                WeeklyAvailability.professional_id == clinic.professional_id
            )
        )


class Pages:
    """Requests pages as someone, and keeps what a real HTML parser finds wrong in each."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.routes = [r for r in app.routes if isinstance(r, Route) and "GET" in (r.methods or ())]
        self.visited: set[str] = set()
        self.problems: dict[str, list[str]] = {}
        self.html_pages = 0

    def route_of(self, path: str) -> str:
        scope = {"type": "http", "method": "GET", "path": path.split("?")[0]}
        for route in self.routes:
            if route.matches(scope)[0] == Match.FULL:
                return route.path
        return path

    def check(self, who: str, method: str, path: str, response: httpx.Response) -> None:
        assert response.status_code < 500, (who, method, path, response.text)
        if who != "anonymous" or method == "POST":  # theirs, or what they sent: no cache keeps it
            cache = response.headers.get("cache-control", "")
            assert "no-store" in cache or path == "/-/brand.css", (who, method, path, cache)
        if method == "GET":
            self.visited.add(self.route_of(path))
        if response.headers.get("content-type", "").startswith("text/html"):
            self.html_pages += 1
            found = problems_in(response.text)
            if found:
                self.problems[f"{method} {path} as {who} ({response.status_code})"] = found

    async def get(self, http: httpx.AsyncClient, who: str, *paths: str) -> None:
        for path in paths:
            self.check(who, "GET", path, await http.get(path))

    async def post(
        self, http: httpx.AsyncClient, who: str, path: str, data: dict[str, str], page: str
    ) -> None:
        """A form sent with mistakes: the page that answers it, errors shown."""
        response = await post_form(http, path, data, page=page)
        self.check(who, "POST", path, response)

    def signed_in(self, host: str) -> httpx.AsyncClient:
        return client_for(self.app, host)


async def enrol_answer(client: httpx.AsyncClient) -> httpx.Response:
    """Set up two-step sign-in; the answer to the confirmation."""
    secret, offer, csrf = await start_enrolment(client)
    data = {"code": code(secret), "offer": offer, "csrf_token": csrf}
    return await client.post("/account/security/confirm", data=data)


async def test_every_page_the_app_serves_is_well_formed_html(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    """Every page the app serves (each GET route, and forms answered with errors), as each
    kind of user, parsed: no malformed attributes, unknown attributes or unclosed tags."""
    pages = Pages(app)
    pro, kind = clinic.professional_id, clinic.kinds["Standard"]
    await make_operator(rt)
    async with pages.signed_in(clinic.host) as anyone:
        await pages.get(
            anyone,
            "anonymous",
            "/",
            "/professionals",
            f"/professionals/{pro}",
            f"/professionals/{pro}/book?type={kind}",
            "/register",
            "/join",
            "/login",
            "/password/forgot",
            "/password/reset?token=not-a-token",
            "/invitation?token=not-a-token",
            "/claim?token=not-a-token",
            "/-/plugins",
            "/-/mailbox",
            "/-/health",
            "/-/brand.css",
            "/no-such-page",
            "/privacy",
            "/privacy/cookies",
        )
        await pages.post(
            anyone, "anonymous", "/login", {"username": "x", "password": "y"}, "/login"
        )
        await pages.post(anyone, "anonymous", "/register", {"email": "nope"}, "/register")
        await pages.post(anyone, "anonymous", "/join", {"email": "nope"}, "/join")
        await pages.post(
            anyone, "anonymous", "/password/forgot", {"email": "x"}, "/password/forgot"
        )

    async with pages.signed_in(clinic.host) as consumer:
        await login(consumer, clinic.consumer.username)
        at = quote(await free_slot(consumer, clinic, days_ahead=3))
        await pages.get(
            consumer, "consumer", f"/professionals/{pro}/book/review?type={kind}&at={at}"
        )
        visit = await book(consumer, clinic, days_ahead=3)
        await pages.get(consumer, "consumer", f"/appointments/{visit}/pay")
        await pay(consumer, providers, visit)
        await pages.get(
            consumer,
            "consumer",
            f"/appointments/{visit}?paid=1",
            f"/appointments/{visit}/status",
            f"/appointments/{visit}/calendar.ics",
            f"/appointments/{visit}/cancel",
            f"/appointments/{visit}/reschedule",
        )
        moved = f"/appointments/{visit}/reschedule"
        await pages.post(consumer, "consumer", moved, {"starts_at": "soon"}, moved)
        await pages.get(consumer, "consumer", f"/appointments/{visit}/intake")
        await answer_intake(consumer, visit)
        await providers.run_jobs()
        await pages.get(
            consumer,
            "consumer",
            "/",
            f"/professionals/{pro}/book?type={kind}",
            "/appointments",
            f"/appointments/{visit}",
            f"/appointments/{visit}/join",
            f"/appointments/{visit}/receipt",
            "/account",
            "/account/security",
            "/account/disclosures",
            "/account/privacy",
            "/account/details",
            "/account/close",
            "/account/erase",
            "/account/restrict",
            "/account/requests",
        )
        await pages.post(consumer, "consumer", "/account/close", {}, "/account/close")
        await pages.post(consumer, "consumer", "/account/erase", {}, "/account/erase")
        await pages.post(
            consumer, "consumer", "/account/details", {"postcode": "x"}, "/account/details"
        )
        await pages.post(consumer, "consumer", "/account/export", {}, "/account/export")
        await pages.get(consumer, "consumer", "/account/export", await download_link(consumer))

    async with pages.signed_in(clinic.host) as anyone:  # a marketing email's unsubscribe link
        token = unsubscribe_token(rt.keyring, clinic.tenant.id, clinic.consumer.id)
        await pages.get(anyone, "anonymous", f"/unsubscribe/{token}")
        # No provider set up for staff sign-in here: both steps answer the not-found page.
        await pages.get(anyone, "anonymous", "/login/sso", "/login/sso/callback?code=x&state=y")
        # News without an account: the sign-up with its errors, the confirmation link's page.
        await pages.get(anyone, "anonymous", "/news")
        await pages.post(anyone, "anonymous", "/news", {"email": "x", "by_email": "yes"}, "/news")
        sealed = subscribers.token(rt.keyring, clinic.tenant.id, clinic.consumer.id, "confirm")
        await pages.get(anyone, "anonymous", f"/news/confirm/{sealed}")

    async with pages.signed_in(clinic.host) as professional:
        await login(professional, clinic.professional.username)
        await pages.get(
            professional,
            "professional",
            "/workspace",
            "/workspace/hours",
            "/workspace/consultations",
            "/workspace/photo",
            f"/workspace/appointments/{visit}",
            f"/workspace/appointments/{visit}/intake",
            f"/workspace/appointments/{visit}/intake.json",
            f"/workspace/appointments/{visit}/host",
        )
        await pages.post(professional, "professional", "/workspace/hours", {}, "/workspace/hours")
        await pages.post(professional, "professional", "/workspace/photo", {}, "/workspace/photo")
        await pages.post(
            professional, "professional", "/workspace/consultations", {}, "/workspace/consultations"
        )
        # The diary with a consultation in it, its errors, a window to edit, time off over it.
        visit_day = (await appointment(rt, clinic, visit)).starts_at.astimezone(clinic.tenant.zone)
        rule = await first_rule(rt, clinic)
        await pages.get(
            professional,
            "professional",
            f"/workspace/diary?view=week&date={visit_day.date().isoformat()}",
            f"/workspace/diary?view=day&date={visit_day.date().isoformat()}",
            "/workspace/diary?view=month&date=x",
            f"/workspace/hours/{rule}",
        )
        await pages.post(
            professional, "professional", f"/workspace/hours/{rule}", {}, "/workspace/hours"
        )
        time_off = {"day_on_date": visit_day.date().isoformat(), "day_note": "Away"}
        await pages.post(
            professional, "professional", "/workspace/days", time_off, "/workspace/hours"
        )
        stale = {**time_off, "decision": "cancel"}  # the list changed: shown again, 409
        await pages.post(professional, "professional", "/workspace/days", stale, "/workspace/hours")

    async with rt.database.reading(clinic.tenant.id) as db:
        paid_id = await db.scalar(select(Payment.id))
    async with pages.signed_in(clinic.host) as admin:
        await login(admin, clinic.admin.username)
        await pages.get(admin, "clinic admin", f"/admin/payments/{paid_id}/receipt")
        await pages.get(
            admin,
            "clinic admin",
            "/admin",
            "/admin/professionals",
            "/admin/appointments",
            "/admin/appointments.csv",
            "/admin/providers",
            "/admin/payments",
            "/admin/questionnaire",
            "/admin/questionnaire.json",
            "/admin/outbox",
            "/admin/ledger",
            "/admin/ledger.csv",
            "/admin/ledger.json",
            "/admin/ledger/new",
            "/admin/campaigns",
            "/admin/proxies",
            "/admin/corrections",
            "/admin/corrections/new",
            f"/admin/corrections/new?consumer={clinic.consumer.username}",
            "/admin/corrections/new?consumer=nobody.here",
            "/admin/holds",
            "/admin/security",
            "/admin/sign-in",
            "/admin/branding",
            "/admin/branding/preview.css?primary_colour=%23123456&accent_colour=%23654321",
            "/-/logo",  # none uploaded: the not-found page
            f"/-/photos/{clinic.professional_id}",  # none uploaded: the not-found page
            f"/admin/professionals/{clinic.professional_id}/photo",
            "/admin/exit",
            "/admin/exit/export.zip",  # none prepared yet: the not-found page
            "/admin/retention",
            "/admin/consents",
            f"/admin/consents/{clinic.consumer.id}",
            "/admin/analytics",
            "/admin/directory",
            "/-/plugins",
            "/-/mailbox",
        )
        await pages.post(
            admin, "clinic admin", "/admin/directory", {"listed": "yes"}, "/admin/directory"
        )
        staff_page = f"/admin/staff/{clinic.professional.id}"
        await pages.get(admin, "clinic admin", "/admin/staff", staff_page)
        await pages.post(admin, "clinic admin", "/admin/staff/invite", {}, "/admin/staff")
        await pages.post(admin, "clinic admin", f"{staff_page}/roles", {}, staff_page)
        await pages.get(admin, "clinic admin", f"/admin/staff/{clinic.admin.id}")
        waiting = {
            "full_name": "Jo Waiting",
            "email": "jo.waiting@example.org",
            "role": "front_desk",
        }
        await pages.post(admin, "clinic admin", "/admin/staff/invite", waiting, "/admin/staff")
        await pages.get(admin, "clinic admin", "/admin/staff")  # an invitation waiting, listed
        await pages.post(admin, "clinic admin", f"{staff_page}/invite-back", {}, staff_page)
        nowhere = "/admin/staff/invitations/00000000-0000-4000-8000-000000000000"
        await pages.post(admin, "clinic admin", f"{nowhere}/send-again", {}, "/admin/staff")
        gone = f"/admin/staff/{(await make_admin(rt, clinic.tenant, 'gone.admin')).id}"
        await pages.post(admin, "clinic admin", f"{gone}/remove", {}, gone)
        await pages.get(admin, "clinic admin", gone)  # removed: "Invite back"
        await pages.post(admin, "clinic admin", f"{gone}/invite-back", {}, gone)
        await pages.get(admin, "clinic admin", gone)  # an invitation back waiting
        patient = f"/desk/patients/{clinic.consumer.id}"
        await pages.get(admin, "clinic admin", "/desk", "/desk?q=a&page=2", patient)
        await pages.get(admin, "clinic admin", "/desk/patients/new")
        await pages.post(admin, "clinic admin", "/desk/patients/new", {}, "/desk/patients/new")
        await pages.post(admin, "clinic admin", f"{patient}/book", {}, patient)
        await pages.post(admin, "clinic admin", f"{patient}/claim", {}, patient)
        await pages.post(admin, "clinic admin", "/admin/ledger/new", {}, "/admin/ledger/new")
        await pages.post(admin, "clinic admin", "/admin/sign-in", {}, "/admin/sign-in")
        await pages.post(admin, "clinic admin", "/admin/branding", {}, "/admin/branding")
        await pages.post(admin, "clinic admin", "/admin/branding/logo", {}, "/admin/branding")
        photo_page = f"/admin/professionals/{clinic.professional_id}/photo"
        await pages.post(admin, "clinic admin", photo_page, {}, photo_page)
        await pages.get(
            admin, "clinic admin", "/admin/privacy", "/admin/privacy/notice", "/admin/announcements"
        )
        await pages.post(admin, "clinic admin", "/admin/announcements", {}, "/admin/announcements")
        await pages.post(admin, "clinic admin", "/admin/privacy", {}, "/admin/privacy")
        notice = {"source": DEFAULT_NOTICE, "action": "publish", "effective_on": "x"}
        await pages.post(admin, "clinic admin", "/admin/privacy/notice", notice, "/admin/privacy")
        notice["effective_on"] = utcnow().astimezone(clinic.tenant.zone).date().isoformat()
        await pages.post(admin, "clinic admin", "/admin/privacy/notice", notice, "/admin/privacy")
        await pages.get(admin, "clinic admin", "/privacy", "/privacy/versions/1")
        await pages.post(admin, "clinic admin", "/admin/campaigns", {}, "/admin/campaigns")
        await pages.post(admin, "clinic admin", "/admin/proxies", {}, "/admin/proxies")
        ward = await make_consumer(rt, clinic.tenant, "ward")
        authority = {"proxy": clinic.consumer.username, "person": ward.username}
        authority |= {"relationship": "parent", "checked_how": "birth certificate seen"}
        assert (await post_form(admin, "/admin/proxies", authority)).status_code == 303
        await pages.post(
            admin,
            "clinic admin",
            "/admin/campaigns/preview",
            {"channel": "email", "subject": "Hours", "message": "We open on Saturdays."},
            "/admin/campaigns",
        )
        staff_page = f"/admin/corrections/new?consumer={clinic.consumer.username}"
        staff_form = {"consumer": clinic.consumer.username, "postcode": "x"}
        await pages.post(admin, "clinic admin", "/admin/corrections/new", staff_form, staff_page)
        await pages.post(admin, "clinic admin", "/admin/holds", {}, "/admin/holds")
        await pages.get(admin, "clinic admin", "/admin/booking-policy")
        policy = "/admin/booking-policy"
        await pages.post(admin, "clinic admin", policy, {"horizon_days": "0"}, policy)
        await pages.get(admin, "clinic admin", "/admin/requests")
        await pages.post(admin, "clinic admin", "/admin/requests", {}, "/admin/requests")
        # Without the password: the set-up page again, its error on the field.
        await pages.post(admin, "clinic admin", "/account/security/start", {}, "/account/security")
        security = await admin.get("/account/security")
        started = await admin.post(
            "/account/security/start",
            data={"csrf_token": csrf_in(security.text), "current_password": PASSWORD},
        )
        pages.check("clinic admin", "POST", "/account/security/start", started)
        confirmed = await enrol_answer(admin)  # the recovery codes, shown once
        pages.check("clinic admin", "POST", "/account/security/confirm", confirmed)
        await pages.get(admin, "clinic admin, two-step on", "/account/security")
        await pages.post(
            admin, "clinic admin", "/account/security/recovery", {}, "/account/security"
        )
        await pages.get(admin, "clinic admin", "/account/password")
        bad = {"current_password": "wrong password", "new_password": "password123"}
        await pages.post(admin, "clinic admin", "/account/password", bad, "/account/password")
    async with pages.signed_in(clinic.host) as admin:
        await login(admin, clinic.admin.username)  # now asks for the code
        await pages.get(admin, "clinic admin, half signed in", "/login/code")

    async with pages.signed_in("localhost") as operator:
        await pages.get(operator, "anonymous", "/", "/contact", "/platform/login", "/-/plugins")
        # No provider set up for operators here (PLATFORM_OIDC_*): both steps answer not found;
        # tests/functional/test_platform_sign_in.py checks the pages with one set up.
        await pages.get(
            operator,
            "anonymous",
            "/platform/login/sso",
            "/platform/login/sso/callback?code=x&state=y",
            "/platform/password/forgot",
            "/platform/password/reset?token=not-a-token",
        )
        await pages.post(
            operator,
            "anonymous",
            "/platform/password/reset",
            {"token": "not-a-token", "password": "x"},
            "/platform/password/forgot",
        )
        await pages.post(
            operator, "anonymous", "/platform/password/forgot", {}, "/platform/password/forgot"
        )
        listed_photo = f"/-/photos/{clinic.tenant.slug}/{clinic.professional_id}"
        await pages.get(operator, "anonymous", listed_photo)  # not listed: the not-found page
        await login(operator, "ops", prefix="/platform")
        await pages.get(
            operator,
            "operator",
            "/",
            "/platform",
            "/platform/plugins",
            f"/platform/tenants/{clinic.tenant.id}",
            f"/platform/tenants/{clinic.tenant.id}/exit",
            "/platform/tenants/new",
            "/platform/account/security",
            "/platform/privacy",
            "/platform/privacy/cookies",
            "/-/plugins",
            "/-/mailbox",
        )
        await pages.get(operator, "operator", "/platform/account/password")
        await pages.post(
            operator, "operator", "/platform/account/password", {}, "/platform/account/password"
        )
        await pages.post(
            operator, "operator", "/platform/tenants/new", {"slug": "X"}, "/platform/tenants/new"
        )
        await enrol(operator, prefix="/platform")
    async with pages.signed_in("localhost") as operator:
        await login(operator, "ops", prefix="/platform")
        await pages.get(operator, "operator, half signed in", "/platform/login/code")

    async with pages.signed_in(clinic.host) as parent:
        await login(parent, clinic.consumer.username)
        await pages.get(parent, "consumer acting for another", f"/account/privacy/for/{ward.id}")
        await pages.get(parent, "consumer acting for another", f"/account/details/for/{ward.id}")

    assert pages.problems == {}
    unvisited = sorted({route.path for route in pages.routes} - pages.visited)
    assert unvisited == [], "pages this test does not render yet"
    assert pages.html_pages >= 45  # the parser really read pages
