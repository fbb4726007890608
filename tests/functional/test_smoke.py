"""A first walk through the portal: the fixtures, both backends, the whole stack."""

from __future__ import annotations

import httpx

from tests.support import Clinic, api_login, book_by_form, booking_form, first_free_slot, login


async def test_home_page_is_branded(client: httpx.AsyncClient, clinic: Clinic) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert "Alpha Clinic" in response.text
    assert f"/-/brand.css?v={clinic.tenant.brand_version}" in response.text


async def test_consumer_books_and_sees_it(client: httpx.AsyncClient, clinic: Clinic) -> None:
    await login(client, clinic.consumer.username)
    start = await first_free_slot(client, clinic)
    response = await book_by_form(client, clinic, start, page="/appointments")
    assert response.status_code == 303
    assert response.headers["location"] == "/appointments"
    page = await client.get("/appointments")
    assert "Standard with Alpha.Pro Example" in page.text


async def test_api_books(client: httpx.AsyncClient, clinic: Clinic) -> None:
    """Booking through the API, and the same time twice refused. It involves one clinic only,
    so it proves nothing of P27 (tenant isolation): tests/functional/test_tenancy.py does."""
    headers = await api_login(client, clinic.consumer.username)
    start = await first_free_slot(client, clinic)
    body = booking_form(clinic, start)
    response = await client.post("/api/v1/appointments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    again = await client.post("/api/v1/appointments", json=body, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
