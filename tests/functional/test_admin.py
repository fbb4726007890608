"""Clinic admin: Professionals appear on the portal only once approved (P02); exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core.accounts.models import Professional
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.support import (
    Clinic,
    book_by_form,
    first_free_slot,
    login,
    person_fields,
    post_form,
)


@pytest.fixture
async def admin(client: httpx.AsyncClient, clinic: Clinic) -> httpx.AsyncClient:
    await login(client, clinic.admin.username)
    return client


async def status_of(rt: Runtime, clinic: Clinic, professional_id: Any) -> str:
    async with rt.database.reading(clinic.tenant.id) as db:
        pro = await db.get(Professional, (clinic.tenant.id, professional_id))
        assert pro is not None
        return pro.status


@pytest.mark.promise("P02")
async def test_a_professional_applies_and_is_shown_only_once_approved(
    app: Any, clinic: Clinic, rt: Runtime
) -> None:
    async with client_for(app, clinic.host) as applicant:
        form = person_fields(
            "dr.new",
            full_name="Dr New Person",
            qualifications="BSc Physiotherapy; HCPC registered",
            field_of_practice="Physiotherapy",
        )
        applied = await post_form(applicant, "/join", form)
        assert applied.status_code == 303
        assert applied.headers["location"] == "/workspace"
        async with rt.database.reading(clinic.tenant.id) as db:
            pro = await db.scalar(
                select(Professional).where(Professional.display_name == "Dr New Person")
            )
        assert pro is not None and pro.status == "pending"
        assert pro.qualifications == "BSc Physiotherapy; HCPC registered"
        listing = await applicant.get("/professionals")
        assert "Dr New Person" not in listing.text
        assert (await applicant.get(f"/professionals/{pro.id}")).status_code == 404
        api = await applicant.get("/api/v1/professionals")
        assert str(pro.id) not in api.text
        assert (await applicant.get(f"/api/v1/professionals/{pro.id}")).status_code == 404

    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        dashboard = await admin.get("/admin")
        assert "Dr New Person" in dashboard.text
        approved = await post_form(
            admin, f"/admin/professionals/{pro.id}/approve", {}, page="/admin"
        )
        assert approved.status_code == 303
    assert await status_of(rt, clinic, pro.id) == "approved"

    async with client_for(app, clinic.host) as visitor:
        listing = await visitor.get("/professionals")
        assert "Dr New Person" in listing.text
        assert "Physiotherapy" in listing.text
        assert (await visitor.get(f"/professionals/{pro.id}")).status_code == 200
        api = await visitor.get("/api/v1/professionals")
        assert "Dr New Person" in [p["name"] for p in api.json()["data"]]


@pytest.mark.promise("P02")
async def test_the_professional_application_form_checks_every_field(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    response = await post_form(
        client, "/join", person_fields("dr.bad", qualifications="", field_of_practice="")
    )
    assert response.status_code == 422
    assert response.text.count('class="error"') >= 2
    async with rt.database.reading(clinic.tenant.id) as db:
        names = [p.display_name for p in await db.scalars(select(Professional))]
    assert "Dr.Bad Example" not in names


@pytest.mark.promise("P02")
async def test_rejecting_and_withdrawing_approval_hides_the_professional(
    admin: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    rejected = await post_form(
        admin, f"/admin/professionals/{clinic.pending_professional_id}/reject", {}, page="/admin"
    )
    assert rejected.status_code == 303
    assert await status_of(rt, clinic, clinic.pending_professional_id) == "rejected"
    again = await post_form(
        admin, f"/admin/professionals/{clinic.pending_professional_id}/reject", {}, page="/admin"
    )
    assert again.status_code == 409
    withdrawn = await post_form(
        admin, f"/admin/professionals/{clinic.professional_id}/reject", {}, page="/admin"
    )
    assert withdrawn.status_code == 303
    listing = await admin.get("/professionals")
    assert "Alpha.Pro Example" not in listing.text.split("<h1>")[1]
    page = await admin.get("/admin/professionals")
    assert "Alpha.Pro Example" in page.text and "Declined" in page.text


@pytest.mark.promise("P02")
async def test_only_clinic_admins_approve(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.professional.username)
    response = await post_form(
        client, f"/admin/professionals/{clinic.pending_professional_id}/approve", {}, page="/"
    )
    assert response.status_code == 403
    assert await status_of(rt, clinic, clinic.pending_professional_id) == "pending"


async def test_admin_lists_and_exports_appointments(
    app: Any, admin: httpx.AsyncClient, clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as consumer:
        await login(consumer, clinic.consumer.username)
        start = await first_free_slot(consumer, clinic)
        later = (datetime.fromisoformat(start) + timedelta(days=2)).isoformat()
        for when in (start, later):
            await book_by_form(consumer, clinic, when)
    page = await admin.get("/admin/appointments")
    assert page.text.count("Alpha.Consumer Example") == 2
    export = await admin.get("/admin/appointments.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 2
    assert {r["consumer"] for r in rows} == {"Alpha.Consumer Example"}
    assert {r["status"] for r in rows} == {"booked"}


async def test_export_neutralises_spreadsheet_formulas(
    app: Any, admin: httpx.AsyncClient, clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as consumer:
        form = person_fields("mallory", full_name='=HYPERLINK("http://evil")')
        assert (await post_form(consumer, "/register", form)).status_code == 303
        await book_by_form(consumer, clinic, await first_free_slot(consumer, clinic))
    export = await admin.get("/admin/appointments.csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert rows[0]["consumer"].startswith("'=")


async def test_admin_pages_are_for_clinic_admins(client: httpx.AsyncClient, clinic: Clinic) -> None:
    for path in (
        "/admin",
        "/admin/professionals",
        "/admin/appointments",
        "/admin/appointments.csv",
    ):
        signed_out = await client.get(path)
        assert signed_out.status_code == 303, path
    await login(client, clinic.consumer.username)
    for path in ("/admin", "/admin/appointments.csv"):
        response = await client.get(path)
        assert response.status_code == 403, path
