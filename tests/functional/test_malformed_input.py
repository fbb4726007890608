"""Malformed input is a 4xx that changes nothing, never a 500 (issue 10's attacks, repeated):
control characters in forms and queries (PostgreSQL refuses NUL), the calendar's ends in
dates, and requests that name two hosts. Deep JSON and huge numbers: tests/unit/test_untrusted.py,
test_api.py and test_intake.py."""

from __future__ import annotations

import html
from typing import Any

import httpx

from praxis.core.booking.models import Appointment
from praxis.core.web.middleware import TARGET_AUTHORITY
from tests.conftest import client_for
from tests.functional.test_api import assert_error
from tests.support import Clinic, booking_form, count_rows, login, make_operator, post_form

NUL = "alpha.consumer\x00' OR 1=1"


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert "Remove the control characters" in html.unescape(response.text)


async def test_nul_in_forms_and_queries_is_refused_before_the_database(
    app: Any, rt: Any, clinic: Clinic
) -> None:
    await make_operator(rt)
    async with client_for(app, clinic.host) as http:
        assert_refused(await post_form(http, "/password/forgot", {"who": NUL}))
        assert_refused(await post_form(http, "/login", {"username": NUL, "password": "x"}))
        assert_refused(await http.get("/professionals", params={"q": "a\x1b[2J"}))
        api = await http.get(
            f"/api/v1/professionals/{clinic.professional_id}/slots",
            params={"consultation_type_id": str(clinic.kinds["Standard"]), "from": "\x00"},
        )
        assert_error(api, 422, "invalid_input", {"from"})
        await login(http, clinic.admin.username)
        assert_refused(await http.get("/admin/ledger", params={"consumer": NUL}))
        assert (await http.get("/admin/ledger", params={"consumer": "line\tok"})).status_code == 200
        # the calendar's ends in a filter: nothing matches, nothing overflows
        ends = {"from": "0001-01-01", "to": "9999-12-31"}
        assert (await http.get("/admin/ledger", params=ends)).status_code == 200
    async with client_for(app, "localhost") as platform:
        refused = await post_form(platform, "/platform/login", {"username": NUL, "password": "x"})
        assert_refused(refused)


async def test_the_calendars_ends_are_refused_on_the_booking_pages(
    app: Any, rt: Any, clinic: Clinic
) -> None:
    book_page = f"/professionals/{clinic.professional_id}/book"
    async with client_for(app, clinic.host) as http:
        for day in ("0001-01-01", "9999-12-31"):
            params = {"type": str(clinic.kinds["Standard"]), "from": day}
            assert (await http.get(book_page, params=params)).status_code == 200, day
        await login(http, clinic.consumer.username)
        for start in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
            sent = await post_form(http, "/appointments", booking_form(clinic, start), page="/")
            assert sent.status_code == 303, sent.text  # back to the list, with a notice
            assert sent.headers["location"] == "/professionals"
    assert await count_rows(rt, clinic, Appointment) == 0


def _with_scope(app: Any, **extra: Any) -> Any:
    """The app behind a server that passed an absolute request line on (h11 or ours)."""

    async def served(scope: Any, receive: Any, send: Any) -> None:
        await app({**scope, **extra} if scope["type"] == "http" else scope, receive, send)

    return served


def _client(app: Any, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}")


async def test_a_request_naming_two_hosts_is_refused(
    app: Any, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as http:
        twice = httpx.Headers([("host", clinic.host), ("host", other_clinic.host)])
        response = await http.get("/professionals", headers=twice)
        assert response.status_code == 400
        assert "more than one address" in response.text
        assert (await http.get("/professionals")).status_code == 200
    elsewhere = [
        {"raw_path": f"http://{other_clinic.host}/professionals".encode()},  # as h11 passes it
        {TARGET_AUTHORITY: other_clinic.host},  # as core/web/server.py passes it
    ]
    for extra in elsewhere:
        async with _client(_with_scope(app, **extra), clinic.host) as http:
            response = await http.get("/professionals")
            assert response.status_code == 400, extra
            assert "Beta" not in response.text and "Alpha" not in response.text
    same = {TARGET_AUTHORITY: clinic.host.upper()}
    async with _client(_with_scope(app, **same), clinic.host) as http:
        assert (await http.get("/professionals")).status_code == 200
