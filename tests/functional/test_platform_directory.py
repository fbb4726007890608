"""The public directory on the bare platform domain: only clinics that opted in, their approved
Professionals, searchable; nothing of any patient; the clinic admin controls the opt-in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, update

from praxis.core.booking.models import ConsultationType, WeeklyAvailability
from praxis.core.clinics import suspension
from praxis.core.db import utcnow
from praxis.core.runtime import Runtime
from praxis.tenants.models import Tenant
from tests.conftest import client_for
from tests.support import Clinic, login, post_form


async def _opt_in(app: Any, clinic: Clinic, town: str = "Leeds") -> httpx.Response:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        return await post_form(admin, "/admin/directory", {"listed": "yes", "town": town})


async def _listing(rt: Runtime, clinic: Clinic) -> tuple[bool, str]:
    async with rt.database.reading() as db:
        row = await db.get(Tenant, clinic.tenant.id)
        assert row is not None
        return row.listed, row.town


async def _search(app: Any, **query: str) -> str:
    async with client_for(app, "localhost") as visitor:
        page = await visitor.get("/", params=query)
        assert page.status_code == 200
        return page.text


def _period_passed(rt: Runtime) -> None:
    """What the directory's next reading (DIRECTORY_CACHE_SECONDS) would do: the tests here
    change the database behind the app's back (test_directory_snapshot.py times it)."""
    rt.pages.directory.forget()


async def test_only_a_clinic_that_opted_in_appears(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    assert "Alpha Clinic" not in await _search(app)
    saved = await _opt_in(app, other_clinic)
    assert saved.status_code == 303
    page = await _search(app)
    assert "Beta Clinic" in page and "Beta.Pro Example" in page and "Leeds" in page
    assert "Alpha Clinic" not in page and "Alpha.Pro Example" not in page
    assert 'href="http://beta.localhost/professionals"' in page  # booking is on its portal
    assert "Beta.Newpro" not in page  # not approved: not listed
    assert "Beta.Consumer" not in page and "beta.consumer" not in page  # never a patient
    assert "Next free:" in page


async def test_the_directory_searches_by_field_mode_town_and_next_free_time(
    app: Any, rt: Runtime, other_clinic: Clinic
) -> None:
    await _opt_in(app, other_clinic, town="York")
    assert "Beta.Pro Example" in await _search(app, field="general")
    assert "Beta.Pro Example" not in await _search(app, field="physiotherapy")
    assert "Beta Clinic" in await _search(app, town="york")
    assert "Beta Clinic" not in await _search(app, town="Leeds")
    assert "Beta.Pro Example" in await _search(app, mode="in_person")
    async with rt.database.writing(other_clinic.tenant.id) as db:
        await db.execute(update(ConsultationType).values(mode="video"))
        await db.commit()
    _period_passed(rt)
    assert "Beta.Pro Example" not in await _search(app, mode="in_person")
    assert "Beta.Pro Example" in await _search(app, mode="video", within="2")
    async with rt.database.writing(other_clinic.tenant.id) as db:
        await db.execute(delete(WeeklyAvailability))
        await db.commit()
    _period_passed(rt)
    assert "Beta.Pro Example" not in await _search(app, within="14")
    assert "No free time in the next two weeks" in await _search(app)
    assert "1 clinic matches" in await _search(app, town="york", mode="nonsense")


async def test_a_suspended_or_leaving_clinic_is_not_in_the_directory(
    app: Any, rt: Runtime, other_clinic: Clinic
) -> None:
    await _opt_in(app, other_clinic)
    assert "Beta Clinic" in await _search(app)
    assert await suspension.suspend(rt.database, other_clinic.tenant.id)
    _period_passed(rt)
    assert "Beta Clinic" not in await _search(app)
    assert await suspension.resume(rt.database, other_clinic.tenant.id)
    _period_passed(rt)
    assert "Beta Clinic" in await _search(app)
    assert "Beta Clinic" not in await _search(app, town="%")  # a town, not a pattern
    async with rt.database.writing() as db:  # the clinic is leaving the platform (P29)
        row = await db.get(Tenant, other_clinic.tenant.id)
        assert row is not None
        row.leaves_on = utcnow().date() + timedelta(days=30)
        await db.commit()
    _period_passed(rt)
    assert "Beta Clinic" not in await _search(app)


@pytest.mark.parametrize(
    ("town", "message"),
    [("", "Enter the town"), ("x" * 101, "too long"), ("Leeds\nYork", "one line")],
)
async def test_opting_in_needs_a_town_and_bad_input_saves_nothing(
    app: Any, rt: Runtime, clinic: Clinic, town: str, message: str
) -> None:
    answer = await _opt_in(app, clinic, town=town)
    assert answer.status_code == 422
    assert 'id="f-town-error"' in answer.text and message in answer.text
    assert await _listing(rt, clinic) == (False, "")
    assert "Alpha Clinic" not in await _search(app)


async def test_the_admin_can_opt_out_again(app: Any, rt: Runtime, clinic: Clinic) -> None:
    await _opt_in(app, clinic)
    assert await _listing(rt, clinic) == (True, "Leeds")
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        assert 'href="/admin/directory"' in (await admin.get("/admin")).text
        page = await admin.get("/admin/directory")
        assert page.status_code == 200 and 'value="Leeds"' in page.text
        out = await post_form(admin, "/admin/directory", {"listed": "no", "town": "Leeds"})
        assert out.status_code == 303
    assert await _listing(rt, clinic) == (False, "Leeds")
    assert "Alpha Clinic" not in await _search(app)


async def test_only_the_clinic_admin_chooses_the_listing(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    for who in (clinic.consumer.username, clinic.professional.username):
        async with client_for(app, clinic.host) as person:
            await login(person, who)
            assert (await person.get("/admin/directory")).status_code in (403, 404)
    async with client_for(app, "localhost") as platform:
        assert (await platform.get("/admin/directory")).status_code == 404
    assert await _listing(rt, clinic) == (False, "")


async def test_the_contact_page_sits_beside_the_directory(app: Any) -> None:
    async with client_for(app, "localhost") as visitor:
        page = await visitor.get("/contact")
        assert page.status_code == 200 and "Contact the platform" in page.text
        assert 'href="/platform/privacy"' in page.text
