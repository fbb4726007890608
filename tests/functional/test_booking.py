"""Booking through the portal: free times, booking, my appointments, cancelling, races."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core.booking.models import Appointment, SlotHold
from praxis.core.db import utcnow
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.test_auth import COOKIE, session_row, set_session
from tests.support import (
    Clinic,
    api_login,
    booking_form,
    count_rows,
    csrf_in,
    first_free_slot,
    login,
    make_consumer,
    post_form,
)


async def test_free_times_page_lists_bookable_slots(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    url = f"/professionals/{clinic.professional_id}/book?type={clinic.kinds['Standard']}"
    anonymous = await client.get(url)
    assert anonymous.status_code == 200
    assert 'To book, <a href="/login' in anonymous.text
    assert "/book/review?" not in anonymous.text
    await login(client, clinic.consumer.username)
    signed_in = await client.get(url)
    # every time leads to the review step; nothing is booked from this page
    assert signed_in.text.count("/book/review?") >= 7 * 20  # 8:00-20:00, 30 min, a week
    assert 'action="/appointments"' not in signed_in.text


async def test_free_times_page_needs_a_consultation(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    response = await client.get(f"/professionals/{clinic.professional_id}/book?type=nonsense")
    assert response.status_code == 303
    assert response.headers["location"] == f"/professionals/{clinic.professional_id}"


async def test_booked_time_disappears_from_free_times(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await api_login(client, clinic.consumer.username)
    start = await first_free_slot(client, clinic)
    response = await post_form(
        client, "/appointments", booking_form(clinic, start), page="/appointments"
    )
    assert response.status_code == 303
    assert await count_rows(rt, clinic, Appointment) == 1
    assert await count_rows(rt, clinic, SlotHold) == 6  # 30 minutes in 5-minute units
    assert await first_free_slot(client, clinic) != start
    # the 60-minute type cannot overlap it either
    long_slots = await client.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={"consultation_type_id": str(clinic.kinds["Long"])},
    )
    booked = datetime.fromisoformat(start)
    for slot in long_slots.json()["data"]:
        begins = datetime.fromisoformat(slot["starts_at"])
        assert not begins <= booked < begins + timedelta(hours=1)


async def test_booking_a_taken_time_says_so_and_changes_nothing(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime, app: Any
) -> None:
    await login(client, clinic.consumer.username)
    start = await first_free_slot(client, clinic)
    first = await post_form(client, "/appointments", booking_form(clinic, start), page="/")
    assert first.status_code == 303
    second = await post_form(client, "/appointments", booking_form(clinic, start), page="/")
    assert second.status_code == 303
    assert "/book?type=" in second.headers["location"]
    page = await client.get(second.headers["location"])
    assert "That time is not available" in page.text
    assert await count_rows(rt, clinic, Appointment) == 1


@pytest.mark.promise("P24")
@pytest.mark.parametrize("via", ["form", "api"])
async def test_booking_notes_the_sessions_activity_in_the_same_transaction(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime, via: str
) -> None:
    """The booking looks the session up inside its own write (one_transaction): an idle
    session's activity is noted there, not in a second writer SQLite would make wait."""
    await login(client, clinic.consumer.username)
    token = client.cookies[COOKIE]
    start = await first_free_slot(client, clinic)
    page = await client.get("/")  # every request notes activity, so read the tokens first
    headers = {"X-CSRF-Token": (await client.get("/api/v1/me")).json()["csrf_token"]}
    form = {"csrf_token": csrf_in(page.text), **booking_form(clinic, start)}
    await set_session(rt, clinic, token, last_seen_at=utcnow() - timedelta(minutes=5))
    before = utcnow()
    if via == "form":
        response = await client.post("/appointments", data=form)
        assert response.status_code == 303 and response.headers["location"] == "/appointments"
    else:
        fields = booking_form(clinic, start)
        response = await client.post("/api/v1/appointments", json=fields, headers=headers)
        assert response.status_code == 201, response.text
    row = await session_row(rt, clinic, token)
    assert row is not None and row.last_seen_at >= before - timedelta(seconds=1)
    assert await count_rows(rt, clinic, Appointment) == 1


async def test_booking_rejects_times_outside_the_diary(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.consumer.username)
    start = datetime.fromisoformat(await first_free_slot(client, clinic))
    for bad in (
        start + timedelta(minutes=7),
        start - timedelta(days=30),
        start + timedelta(days=400),
    ):
        response = await post_form(
            client, "/appointments", booking_form(clinic, bad.isoformat()), page="/"
        )
        assert response.status_code == 303
    garbage = await post_form(
        client, "/appointments", {"professional_id": "x", "starts_at": "soon"}, page="/"
    )
    assert garbage.status_code == 303
    assert garbage.headers["location"] == "/professionals"
    assert await count_rows(rt, clinic, Appointment) == 0


async def test_only_consumers_book(client: httpx.AsyncClient, clinic: Clinic, rt: Runtime) -> None:
    await login(client, clinic.admin.username)
    start = await first_free_slot(client, clinic)
    response = await post_form(client, "/appointments", booking_form(clinic, start), page="/")
    assert response.status_code == 403
    assert await count_rows(rt, clinic, Appointment) == 0


async def test_signed_out_booking_goes_to_sign_in(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    page = await client.get("/login")
    response = await client.post(
        "/appointments",
        data={
            **booking_form(clinic, "2030-01-01T09:00:00+00:00"),
            "csrf_token": csrf_in(page.text),
        },
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/appointments")


async def test_my_appointments_and_cancelling_within_the_window(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.consumer.username)
    soon = await first_free_slot(client, clinic)
    later = (datetime.fromisoformat(soon) + timedelta(days=3)).isoformat()
    for start in (soon, later):
        booked = await post_form(client, "/appointments", booking_form(clinic, start), page="/")
        assert booked.status_code == 303
    page = await client.get("/appointments")
    assert page.status_code == 200
    assert page.text.count('/cancel">Cancel') == 1  # the soon one is inside 24 h
    assert page.text.count('/reschedule">Move') == 1
    assert "It is too late to cancel online" in page.text
    async with rt.database.reading(clinic.tenant.id) as db:
        rows = {a.starts_at.isoformat(): a.id for a in await db.scalars(select(Appointment))}
    late_id = rows[datetime.fromisoformat(later).isoformat()]
    soon_id = rows[datetime.fromisoformat(soon).isoformat()]
    refused = await post_form(client, f"/appointments/{soon_id}/cancel", {}, page="/appointments")
    assert refused.status_code == 403
    assert "cancelled online up to 24 hours" in refused.text
    cancelled = await post_form(client, f"/appointments/{late_id}/cancel", {}, page="/appointments")
    assert cancelled.status_code == 303
    assert await count_rows(rt, clinic, SlotHold) == 6  # only the soon one still holds the diary
    again = await post_form(client, f"/appointments/{late_id}/cancel", {}, page="/appointments")
    assert again.status_code == 409
    page = await client.get("/appointments")
    assert "(cancelled)" in page.text


async def test_a_consumer_cannot_cancel_someone_elses_appointment(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.consumer.username)
    start = datetime.fromisoformat(await first_free_slot(client, clinic)) + timedelta(days=3)
    await post_form(client, "/appointments", booking_form(clinic, start.isoformat()), page="/")
    async with rt.database.reading(clinic.tenant.id) as db:
        appointment_id = await db.scalar(select(Appointment.id))
    await make_consumer(rt, clinic.tenant, "intruder")
    async with client_for(app, clinic.host) as other:
        await login(other, "intruder")
        response = await post_form(other, f"/appointments/{appointment_id}/cancel", {}, page="/")
        assert response.status_code == 404


async def test_parallel_bookings_of_one_slot_make_exactly_one_appointment(
    app: Any, clinic: Clinic, rt: Runtime
) -> None:
    """Ten consumers press "Book" for the same time at once: one wins, nine are told."""
    clients = [client_for(app, clinic.host) for _ in range(10)]
    try:
        headers = []
        for number, http in enumerate(clients):
            person = await make_consumer(rt, clinic.tenant, f"racer{number}")
            headers.append(await api_login(http, person.username))
        start = await first_free_slot(clients[0], clinic)
        body = booking_form(clinic, start)
        responses = await asyncio.gather(
            *(
                http.post("/api/v1/appointments", json=body, headers=h)
                for http, h in zip(clients, headers, strict=True)
            )
        )
    finally:
        for http in clients:
            await http.aclose()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, [r.text for r in responses]
    assert await count_rows(rt, clinic, Appointment) == 1
    assert await count_rows(rt, clinic, SlotHold) == 6


async def test_parallel_bookings_of_overlapping_slots_of_different_lengths(
    app: Any, clinic: Clinic, rt: Runtime
) -> None:
    """A 30- and a 60-minute booking starting together: the hold units make one lose."""
    first = client_for(app, clinic.host)
    second = client_for(app, clinic.host)
    try:
        a = await make_consumer(rt, clinic.tenant, "short")
        b = await make_consumer(rt, clinic.tenant, "long")
        ha = await api_login(first, a.username)
        hb = await api_login(second, b.username)
        start = await first_free_slot(first, clinic, "Long")
        results = await asyncio.gather(
            first.post("/api/v1/appointments", json=booking_form(clinic, start), headers=ha),
            second.post(
                "/api/v1/appointments", json=booking_form(clinic, start, "Long"), headers=hb
            ),
        )
    finally:
        await first.aclose()
        await second.aclose()
    assert sorted(r.status_code for r in results) == [201, 409]
    assert await count_rows(rt, clinic, Appointment) == 1


@pytest.mark.parametrize("kind", ["Standard", "Long"])
async def test_professional_sees_the_booking_in_the_workspace(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, kind: str
) -> None:
    await login(client, clinic.consumer.username)
    start = await first_free_slot(client, clinic, kind)
    await post_form(client, "/appointments", booking_form(clinic, start, kind), page="/")
    async with client_for(app, clinic.host) as pro:
        await login(pro, clinic.professional.username)
        page = await pro.get("/workspace")
        assert "Alpha.Consumer Example" in page.text
        assert kind in page.text
