"""The operator sets what a clinic must not: API base URLs, the platform's keys and fees."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.provider_fixtures import STRIPE_KEY, Providers
from tests.support import Clinic, csrf_in, login, make_operator


@pytest.fixture
async def operator(app: Any, rt: Runtime) -> Any:
    await make_operator(rt)
    async with client_for(app, "localhost") as http:
        await login(http, "ops", prefix="/platform")
        yield http


async def _stored(rt: Runtime, clinic: Clinic, plugin: str) -> dict[str, Any]:
    async with rt.database.reading(clinic.tenant.id) as db:
        row = await rt.provider_settings.row(db, plugin)
        return rt.provider_settings.stored(row, clinic.tenant.id)


async def test_operator_sees_operator_only_fields_but_never_a_stored_secret(
    operator: httpx.AsyncClient, clinic: Clinic, providers: Providers
) -> None:
    page = await operator.get(f"/platform/tenants/{clinic.tenant.id}")
    assert page.status_code == 200
    assert 'name="secret_key"' in page.text and 'name="application_fee_percent"' in page.text
    assert 'name="api_base_url"' in page.text
    assert STRIPE_KEY not in page.text and "Stored: leave blank to keep it" in page.text
    assert 'name="account_sid"' not in page.text  # the clinic's own Twilio account is theirs


async def test_operator_saves_a_platform_fee_and_keeps_the_secret(
    operator: httpx.AsyncClient, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    path = f"/platform/tenants/{clinic.tenant.id}"
    page = await operator.get(path)
    before = await _stored(rt, clinic, "payments_stripe")
    form = {
        "csrf_token": csrf_in(page.text),
        "secret_key": "",
        "webhook_secret": "",
        "api_base_url": str(before["api_base_url"]),
        "application_fee_percent": "2.5",
        "connect_country": "GB",
    }
    saved = await operator.post(f"{path}/providers/payments_stripe", data=form)
    assert saved.status_code == 303, saved.text
    after = await _stored(rt, clinic, "payments_stripe")
    assert str(after["application_fee_percent"]) == "2.5"
    assert after["secret_key"] == STRIPE_KEY  # blank kept it


async def test_bad_operator_settings_say_why_and_change_nothing(
    operator: httpx.AsyncClient, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    path = f"/platform/tenants/{clinic.tenant.id}"
    page = await operator.get(path)
    before = await _stored(rt, clinic, "payments_stripe")
    form = {
        "csrf_token": csrf_in(page.text),
        "application_fee_percent": "90",
        "api_base_url": "nope",
    }
    refused = await operator.post(f"{path}/providers/payments_stripe", data=form)
    assert refused.status_code == 422
    assert "nothing was saved" in refused.text
    assert await _stored(rt, clinic, "payments_stripe") == before


async def test_clinic_admins_cannot_reach_the_platform_pages(
    app: Any, clinic: Clinic, providers: Providers
) -> None:
    async with client_for(app, clinic.host) as http:
        await login(http, clinic.admin.username)
        assert (await http.get(f"/platform/tenants/{clinic.tenant.id}")).status_code == 404
