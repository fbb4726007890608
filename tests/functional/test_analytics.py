"""Analytics cookies a clinic can switch on (P08), through HTTP: the switch on /admin/privacy
in the ledger; every portal page offers Accept and Reject alike while the visitor has not
chosen; Set-Cookie carries nothing but strictly necessary cookies until an acceptance, after
which the analytics cookie appears and views are counted; a consumer's choice is a consent
record they change under Account (P35); one clinic's counts never reach another's (P27)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core.analytics.models import VisitCount
from praxis.core.consents import services as consents
from praxis.core.consents.kinds import ANALYTICS_COOKIES
from praxis.core.db import utcnow
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant
from tests.conftest import client_for
from tests.functional.flows import events, signed_in
from tests.functional.test_consents import choose, state_of
from tests.functional.test_pages_quality import check_page
from tests.functional.test_privacy_notice import (
    NECESSARY,
    SETTINGS_FORM,
    anonymous_pages,
    cookie_names,
)
from tests.markup import problems_in
from tests.support import Clinic, csrf_in, login, post_form

VISITOR = "praxis_visitor"
CHOICE = "praxis_cookie_choice"
_CHOICE_BUTTON = re.compile(
    r'<(\w+) type="submit" name="choice" value="(accept|reject)" class="([^"]*)">([^<]*)<'
)


async def count_visits(rt: Runtime, clinic: Clinic, on: bool = True) -> None:
    """Turn the clinic's switch, as its admin does on /admin/privacy."""
    async with rt.database.writing() as db:
        row = await db.get(Tenant, clinic.tenant.id)
        assert row is not None
        row.count_visits = on
        await db.commit()
        clinic.tenant = TenantInfo.from_row(row)
    rt.directory.forget_all()


async def counted(rt: Runtime, clinic: Clinic) -> dict[str, tuple[int, int]]:
    """Views and new visitors per page, as written (this process's tallies first)."""
    await rt.visits.flush()
    async with rt.database.reading(clinic.tenant.id) as db:
        rows = await db.scalars(select(VisitCount))
        return {row.path: (row.views, row.visitors) for row in rows}


def choice_buttons(page: str) -> list[tuple[str, str, str, str]]:
    """(element, value, class, label) of each analytics choice on the page."""
    return _CHOICE_BUTTON.findall(page)


def asks(page: str) -> bool:
    """The page shows the region labelled "Cookies" with both choices, equally easy."""
    region = 'aria-labelledby="cookie-choice-title"' in page
    heading = '<h2 id="cookie-choice-title">Cookies</h2>' in page
    buttons = choice_buttons(page)
    if not region:
        assert not heading and not buttons, "choices outside the Cookies region"
        return False
    assert heading
    assert_equally_easy(buttons)
    return True


def assert_equally_easy(buttons: list[tuple[str, str, str, str]]) -> None:
    assert [value for _, value, _, _ in buttons] == ["accept", "reject"]
    (accept_tag, _, accept_class, accept), (reject_tag, _, reject_class, reject) = buttons
    assert accept_tag == reject_tag == "button"  # both plain submit buttons of one form
    assert accept_class == reject_class  # the same size, style and weight
    assert (accept, reject) == ("Accept analytics cookies", "Reject analytics cookies")


async def choose_cookies(client: httpx.AsyncClient, choice: str, page: str) -> httpx.Response:
    shown = await client.get(page)
    form = {"csrf_token": csrf_in(shown.text), "choice": choice, "next": page}
    return await client.post("/privacy/cookies", data=form)


def max_age(response: httpx.Response, name: str) -> int | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            found = re.search(r"Max-Age=(-?\d+)", header, re.IGNORECASE)
            return int(found.group(1)) if found else None
    return None


@pytest.mark.promise("P08")
async def test_the_clinic_switches_counting_on_and_off_and_the_ledger_names_it(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    page = (await admin.get("/admin/privacy")).text
    assert '<label for="f-count_visits">Count visits to the portal (analytics cookies)' in page
    assert 'name="count_visits" value="on" aria-describedby="f-count_visits-hint">' in page
    anyone = client_for(app, clinic.host)
    assert not asks((await anyone.get("/")).text)  # off by default

    saved = await post_form(admin, "/admin/privacy", {**SETTINGS_FORM, "count_visits": "on"})
    assert saved.status_code == 303
    assert (
        'aria-describedby="f-count_visits-hint" checked>'
        in (await admin.get("/admin/privacy")).text
    )
    home = await anyone.get("/")
    assert asks(home.text)
    unclear = {"csrf_token": csrf_in(home.text), "choice": "maybe", "next": "/"}
    refused = await anyone.post("/privacy/cookies", data=unclear)
    assert refused.status_code == 422 and CHOICE not in cookie_names(refused)
    assert "Choose “Accept analytics cookies” or “Reject analytics cookies”" in html.unescape(
        refused.text
    )
    cookies_page = html.unescape((await anyone.get("/privacy/cookies")).text)
    assert f"<code>{VISITOR}</code>" in cookies_page and f"<code>{CHOICE}</code>" in cookies_page
    assert "how many times each page was viewed each day" in cookies_page
    notice = html.unescape((await anyone.get("/privacy")).text)  # the standard one, filled in
    assert "Analytics cookies (only with your consent)" in notice
    assert "lasts at most 13 months" in notice

    again = {k: v for k, v in SETTINGS_FORM.items()}  # the box unticked: counting stops
    assert (await post_form(admin, "/admin/privacy", again)).status_code == 303
    assert not asks((await anyone.get("/")).text)
    assert "Analytics cookies (only with your consent)" not in (await anyone.get("/privacy")).text
    late = await anyone.post("/privacy/cookies", data={**unclear, "choice": "accept"})
    assert late.status_code == 303 and not cookie_names(late) & {CHOICE, VISITOR}
    changes = [e.reason for e in await events(rt, clinic) if e.operation == "privacy_settings"]
    assert len(changes) == 2 and all("count_visits" in reason for reason in changes)


@pytest.mark.promise("P08")
async def test_with_analytics_on_only_an_acceptance_sets_the_analytics_cookie(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    """Set-Cookie read on every page of a clinic that counts visits: undecided, nothing but
    strictly necessary cookies and the choice on every page; rejected, still none and nothing
    counted; accepted, the analytics cookie (at most 13 months) and each view counted."""
    await count_visits(rt, clinic)
    pages = anonymous_pages(clinic)
    anyone = client_for(app, clinic.host)
    seen: set[str] = set()
    for path in pages:
        response = await anyone.get(path)
        seen |= cookie_names(response)
        if response.status_code == 200 and path != "/privacy/cookies":
            assert asks(response.text), path
            check_page(response.text, path)
            assert problems_in(response.text) == [], path
    own = (await anyone.get("/privacy/cookies")).text
    assert "You have not chosen yet" in own
    assert_equally_easy(choice_buttons(own))  # the cookies page offers both too
    consumer = client_for(app, clinic.host)
    seen |= cookie_names(await login(consumer, clinic.consumer.username))
    for path in ("/", "/appointments", "/account", "/account/privacy", "/privacy"):
        response = await consumer.get(path)
        seen |= cookie_names(response)
        assert asks(response.text), path
    admin = await signed_in(app, clinic, clinic.admin.username)
    for path in ("/admin", "/admin/privacy", "/admin/analytics"):
        seen |= cookie_names(await admin.get(path))
    assert {"praxis_csrf", "praxis_session"} <= seen
    assert seen <= NECESSARY, sorted(seen - NECESSARY)
    assert await counted(rt, clinic) == {}

    rejected = await choose_cookies(anyone, "reject", "/professionals")
    assert rejected.status_code == 303 and rejected.headers["location"] == "/professionals"
    assert CHOICE in cookie_names(rejected) and VISITOR not in cookie_names(rejected)
    for path in pages:
        response = await anyone.get(path)
        assert VISITOR not in cookie_names(response), path
        assert path == "/privacy/cookies" or not asks(response.text), path  # chosen: not asked
    assert await counted(rt, clinic) == {}

    other = client_for(app, clinic.host)
    accepted = await choose_cookies(other, "accept", f"/professionals/{clinic.professional_id}")
    assert accepted.status_code == 303 and VISITOR not in cookie_names(accepted)
    first = await other.get(accepted.headers["location"])
    assert VISITOR in cookie_names(first) and not asks(first.text)
    lifetime = max_age(first, VISITOR)
    assert lifetime is not None and 0 < lifetime <= 395 * 86400  # 13 months at most
    again = await other.get(f"/professionals/{clinic.professional_id}?from=search")
    assert VISITOR not in cookie_names(again)  # the same visitor, the same day: nothing new
    await other.get("/")
    assert await counted(rt, clinic) == {"/professionals/{id}": (2, 1), "/": (1, 0)}

    changed = await choose_cookies(other, "reject", "/privacy/cookies")  # viewed, then chosen
    assert max_age(changed, VISITOR) == 0  # removed at once
    before = await counted(rt, clinic)
    assert before == {"/professionals/{id}": (2, 1), "/": (1, 0), "/privacy/cookies": (1, 0)}
    await other.get("/")
    assert await counted(rt, clinic) == before


@pytest.mark.promise("P08")
@pytest.mark.promise("P35")
async def test_a_consumers_choice_is_a_consent_record_they_see_and_change(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    await count_visits(rt, clinic)
    laptop = await signed_in(app, clinic, clinic.consumer.username)
    assert (await choose_cookies(laptop, "accept", "/")).status_code == 303
    me = clinic.consumer.id
    async with rt.database.reading(clinic.tenant.id) as db:
        state = await consents.state(db, ANALYTICS_COOKIES, consents.Whose(me))
    assert state.given and state.method == "portal" and state.actor_id == me
    page = (await laptop.get("/account/privacy")).text
    assert state_of(page, "Analytics cookies") == "Given"

    phone = await signed_in(app, clinic, clinic.consumer.username)  # another browser
    home = await phone.get("/")
    assert not asks(home.text)  # their recorded choice holds here too
    assert {CHOICE, VISITOR} <= cookie_names(home)

    withdrawn = await choose(laptop, "analytics.cookies", False)
    assert withdrawn.status_code == 303
    assert max_age(withdrawn, VISITOR) == 0 and CHOICE in cookie_names(withdrawn)
    assert state_of((await laptop.get("/account/privacy")).text, "Analytics cookies") == (
        "Not given"
    )
    later = await phone.get("/")
    assert max_age(later, VISITOR) == 0 and not asks(later.text)  # withdrawn everywhere
    views = await counted(rt, clinic)
    await phone.get("/professionals")
    assert await counted(rt, clinic) == views  # nothing new is counted on a withdrawn consent
    operations = [e.operation for e in await events(rt, clinic) if e.kind == "consent"]
    assert operations == ["analytics_cookies_accepted", "analytics_cookies_rejected"]


@pytest.mark.promise("P08")
@pytest.mark.promise("P27")
async def test_one_clinics_visits_never_appear_on_anothers_page(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    await count_visits(rt, clinic)
    await count_visits(rt, other_clinic)
    visitor = client_for(app, clinic.host)
    await choose_cookies(visitor, "accept", "/")
    for _ in range(3):
        await visitor.get("/professionals")
    admin = await signed_in(app, clinic, clinic.admin.username)
    own = html.unescape((await admin.get("/admin/analytics")).text)
    check_page(own, "/admin/analytics")
    assert (
        "<h1>Visits</h1>" in own
        and "<strong>3</strong> page views by <strong>1</strong> visitor" in own
    )
    assert "<code>/professionals</code>" in own
    theirs = await signed_in(app, other_clinic, other_clinic.admin.username)
    other_page = html.unescape((await theirs.get("/admin/analytics")).text)
    assert "<strong>0</strong> page views" in other_page
    assert "<code>/professionals</code>" not in other_page
    # A session of one clinic is no session on another's host; consumers may not look.
    stranger = client_for(app, other_clinic.host)
    for cookie in admin.cookies.jar:
        stranger.cookies.set(cookie.name, cookie.value or "")
    refused = await stranger.get("/admin/analytics")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    assert (await consumer.get("/admin/analytics")).status_code == 403


def visitor_value(response: httpx.Response) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{VISITOR}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise AssertionError("no analytics cookie was set")


@pytest.mark.promise("P08")
async def test_the_analytics_cookie_never_outlives_13_months_from_acceptance(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    """Re-set once a day to note the day, it keeps its first lifetime; past 13 months from
    acceptance it starts again with a new random id."""
    await count_visits(rt, clinic)
    today = utcnow().astimezone(clinic.tenant.zone).date()
    ten_days, fourteen_months = today - timedelta(days=10), today - timedelta(days=425)
    for accepted, same in ((ten_days, True), (fourteen_months, False)):
        browser = client_for(app, clinic.host)
        browser.cookies.set(CHOICE, "accept")
        seen = accepted + timedelta(days=1)
        browser.cookies.set(VISITOR, f"{'a' * 16}.{accepted:%Y%m%d}.{seen:%Y%m%d}")
        response = await browser.get("/")
        value = visitor_value(response)
        assert value.endswith(f".{today:%Y%m%d}")
        assert value.startswith("a" * 16) == same
        assert max_age(response, VISITOR) == (385 if same else 395) * 86400
    assert await counted(rt, clinic) == {"/": (2, 2)}  # each a new visitor of the day
