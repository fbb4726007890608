"""The public directory is read at most once a period per process and every search is filtered
from that snapshot in memory; what changed shows at the next reading; "within N days" counts
from now; each app keeps its own page caches (core/caches.py, Runtime.pages)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete

from praxis.core.app import create_app
from praxis.core.booking.models import WeeklyAvailability
from praxis.core.clinics import suspension
from praxis.core.clinics.listing import (
    Directory,
    ListedClinic,
    ListedProfessional,
    Listings,
    Search,
    matching,
)
from praxis.core.db import utcnow
from praxis.core.runtime import Runtime
from praxis.tenants import services as tenants
from praxis.tenants.models import Tenant
from tests.conftest import client_for
from tests.functional.test_round_trips import round_trips
from tests.support import Clinic, login, post_form


async def _opt_in(app: Any, clinic: Clinic, town: str = "York") -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        saved = await post_form(admin, "/admin/directory", {"listed": "yes", "town": town})
        assert saved.status_code == 303


async def _search(app: Any, **query: str) -> str:
    async with client_for(app, "localhost") as visitor:
        page = await visitor.get("/", params=query)
        assert page.status_code == 200
        return page.text


async def _no_hours(rt: Runtime, clinic: Clinic) -> None:
    """No free time at all: the snapshot then speaks of no time that could pass."""
    async with rt.database.writing(clinic.tenant.id) as db:
        await db.execute(delete(WeeklyAvailability))
        await db.commit()


async def _names(rt: Runtime, directory: Listings, now: datetime, **query: str) -> list[str]:
    found = await directory.search(
        rt.database, Search.of(query), portal_of=rt.settings.site_url, now=now
    )
    return [clinic.name for clinic in found]


async def test_searches_within_the_period_ask_the_database_nothing(
    app: Any, rt: Runtime, other_clinic: Clinic
) -> None:
    await _opt_in(app, other_clinic)
    assert "Beta.Pro Example" in await _search(app)  # read once
    with round_trips(rt) as seen:
        chosen = await _search(app, field="general", mode="in_person", town="york", within="14")
        assert "Beta.Pro Example" in chosen
        assert "Beta.Pro Example" not in await _search(app, field="physiotherapy")
        assert "Beta.Pro Example" in await _search(app, mode="video", within="2")
        assert "Beta Clinic" not in await _search(app, town="Leeds")
        assert "Beta Clinic" in await _search(app)
    assert seen == []


async def test_the_directory_is_read_again_once_its_period_has_passed(
    app: Any, rt: Runtime, other_clinic: Clinic
) -> None:
    await _opt_in(app, other_clinic)
    await _no_hours(rt, other_clinic)
    directory = Listings(seconds=rt.settings.directory_cache_seconds)
    period = timedelta(seconds=directory.seconds)
    assert period == timedelta(seconds=30)
    now = utcnow()
    assert await _names(rt, directory, now) == ["Beta Clinic"]
    async with rt.database.writing() as db:  # opted out from another process
        await tenants.set_listing(db, other_clinic.tenant.id, listed=False, town="York")
    with round_trips(rt) as seen:
        assert await _names(rt, directory, now + period - timedelta(seconds=1)) == ["Beta Clinic"]
    assert seen == []
    with round_trips(rt) as seen:
        assert await _names(rt, directory, now + period) == []
    assert seen != []


async def test_with_no_period_every_search_reads_the_directory(
    app: Any, rt: Runtime, other_clinic: Clinic
) -> None:
    await _opt_in(app, other_clinic)
    directory = Listings(seconds=0)  # DIRECTORY_CACHE_SECONDS=0
    now = utcnow()
    for _ in range(2):
        with round_trips(rt) as seen:
            assert await _names(rt, directory, now) == ["Beta Clinic"]
        assert seen != []


async def test_a_suspended_or_leaving_clinic_is_gone_at_the_next_reading(
    app: Any, rt: Runtime, other_clinic: Clinic
) -> None:
    await _opt_in(app, other_clinic)
    await _no_hours(rt, other_clinic)
    directory = Listings(seconds=30)
    now = utcnow()
    assert await _names(rt, directory, now) == ["Beta Clinic"]
    assert await suspension.suspend(rt.database, other_clinic.tenant.id)
    assert await _names(rt, directory, now + timedelta(seconds=10)) == ["Beta Clinic"]
    assert await _names(rt, directory, now + timedelta(seconds=30)) == []
    assert await suspension.resume(rt.database, other_clinic.tenant.id)
    assert await _names(rt, directory, now + timedelta(seconds=60)) == ["Beta Clinic"]
    async with rt.database.writing() as db:  # leaving the platform (P29)
        row = await db.get(Tenant, other_clinic.tenant.id)
        assert row is not None
        row.leaves_on = now.date() + timedelta(days=30)
        await db.commit()
    assert await _names(rt, directory, now + timedelta(seconds=70)) == ["Beta Clinic"]
    assert await _names(rt, directory, now + timedelta(seconds=90)) == []


async def test_saving_the_listing_shows_at_once_in_this_process(
    app: Any, rt: Runtime, other_clinic: Clinic
) -> None:
    assert "Beta Clinic" not in await _search(app)  # read, and kept
    await _opt_in(app, other_clinic)
    assert "Beta Clinic" in await _search(app)
    async with client_for(app, other_clinic.host) as admin:
        await login(admin, other_clinic.admin.username)
        page = await admin.get("/admin/directory")
        assert "disappears from the directory within a minute" in page.text
        out = await post_form(admin, "/admin/directory", {"listed": "no", "town": "York"})
        assert out.status_code == 303
    assert "Beta Clinic" not in await _search(app)


async def test_a_next_free_time_no_longer_bookable_is_read_again_not_shown(
    app: Any, rt: Runtime, other_clinic: Clinic
) -> None:
    """A snapshot that names a time now past (or inside the clinic's notice) is read again
    however young it is: the directory never offers a time that cannot be booked."""
    await _opt_in(app, other_clinic)
    directory = Listings(seconds=3600)
    now = utcnow()
    found = await directory.search(rt.database, Search(), portal_of=rt.settings.site_url, now=now)
    free = found[0].professionals[0].next_free
    assert free is not None
    notice = timedelta(hours=other_clinic.tenant.booking.minimum_notice_hours)
    moment = free - notice + timedelta(seconds=1)  # that time is inside the notice now
    with round_trips(rt) as seen:
        again = await directory.search(
            rt.database, Search(within="2"), portal_of=rt.settings.site_url, now=moment
        )
    assert seen != []
    later = again[0].professionals[0].next_free
    assert later is not None and later >= moment + notice


NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _snapshot(free: datetime | None) -> Directory:
    person = ListedProfessional(uuid.uuid4(), "Ann Example", "Physiotherapy", ("video",), free)
    clinic = ListedClinic("Gamma Clinic", "Leeds", "http://gamma.localhost", "", "UTC", [person])
    return Directory((clinic,), None)


def _shown(directory: Directory, now: datetime, within: str) -> bool:
    found = matching(directory, Search(within=within), now=now)
    return bool(found and found[0].professionals)


def test_within_counts_from_now_not_from_when_the_snapshot_was_read() -> None:
    in_three_days = _snapshot(NOW + timedelta(days=3))
    assert not _shown(in_three_days, NOW, "2")
    assert _shown(in_three_days, NOW + timedelta(days=1, hours=1), "2")  # a day later: 2 days
    assert _shown(in_three_days, NOW, "7")
    assert not _shown(in_three_days, NOW + timedelta(days=3, seconds=1), "7")  # past: unknown
    assert not _shown(_snapshot(None), NOW, "14")
    assert _shown(_snapshot(None), NOW, "")


@asynccontextmanager
async def _second_app(rt: Runtime) -> AsyncIterator[Any]:
    application = create_app(rt.settings, access_log=False)
    async with application.router.lifespan_context(application):
        yield application


async def test_two_apps_in_one_process_keep_their_own_pages(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    await _opt_in(app, other_clinic)
    page = f"/professionals/{clinic.professional_id}/book?type={clinic.kinds['Standard']}"
    async with client_for(app, clinic.host) as visitor:
        assert 'class="slot"' in (await visitor.get(page)).text  # a week kept by this app
    assert "Beta Clinic" in await _search(app)  # and the directory read
    await _no_hours(rt, clinic)  # behind both apps' backs
    async with rt.database.writing() as db:
        await tenants.set_listing(db, other_clinic.tenant.id, listed=False, town="York")
    async with _second_app(rt) as second:
        other: Runtime = second.state.runtime
        assert other.pages is not rt.pages
        assert "Beta Clinic" not in await _search(second)
        async with client_for(second, clinic.host) as visitor:
            assert 'class="slot"' not in (await visitor.get(page)).text
    assert "Beta Clinic" in await _search(app)  # the first app's own, until its period ends
    async with client_for(app, clinic.host) as visitor:
        assert 'class="slot"' in (await visitor.get(page)).text
