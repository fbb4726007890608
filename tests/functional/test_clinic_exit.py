"""A clinic that leaves the platform (P29): the operator records the exit, sign-in closes on
the day, and after ``retention.tenant_exit_months`` every row of the clinic goes, in every
tenant table, with its ledger and its data key; the other clinic keeps every row (P27)."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from praxis.core.accounts import photos
from praxis.core.accounts.models import Professional
from praxis.core.datakeys import DataKeyMissing
from praxis.core.db import Base
from praxis.core.privacy import clinic_export
from praxis.core.privacy import exit as clinic_exit
from praxis.core.privacy.models import TenantExit, TenantPurge
from praxis.core.runtime import Runtime
from praxis.core.tenancy.registry import tagged_tables, tenant_tables
from praxis.core.worker import purge_departed
from praxis.tenants.models import Tenant
from tests.conftest import client_for
from tests.functional.flows import book, events, jobs, pay, signed_in
from tests.provider_fixtures import Providers
from tests.support import Clinic, image, login, make_operator, post_form


@pytest.fixture
async def operator(app: Any, rt: Runtime) -> Any:
    await make_operator(rt)
    async with client_for(app, "localhost") as http:
        await login(http, "ops", prefix="/platform")
        yield http


async def _rows_per_table(url: str, tenant_id: uuid.UUID) -> dict[str, int]:
    """Rows of one tenant in every walled table, read as the owner (no row-level security)."""
    owner = create_async_engine(url)
    try:
        async with owner.connect() as connection:
            counted = {}
            for name in sorted(set(tenant_tables()) | set(tagged_tables())):
                table = Base.metadata.tables[name]
                query = select(func.count()).select_from(table)
                counted[name] = int(
                    await connection.scalar(query.where(table.c.tenant_id == tenant_id)) or 0
                )
            return counted
    finally:
        await owner.dispose()


async def _leaves(rt: Runtime, clinic: Clinic, day: date) -> None:
    """Move the exit date (the test's stand-in for time passing)."""
    async with rt.database.writing() as db:
        await db.execute(update(Tenant).where(Tenant.id == clinic.tenant.id).values(leaves_on=day))
        await db.execute(
            update(TenantExit).where(TenantExit.tenant_id == clinic.tenant.id).values(leaves_on=day)
        )
        await db.commit()
    rt.directory.forget_all()


@pytest.mark.promise("P29")
async def test_the_operator_starts_an_exit_and_bad_input_changes_nothing(
    app: Any, operator: httpx.AsyncClient, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    page_path = f"/platform/tenants/{clinic.tenant.id}/exit"
    detail = await operator.get(f"/platform/tenants/{clinic.tenant.id}")
    assert f'href="{page_path}"' in detail.text
    page = await operator.get(page_path)
    assert page.status_code == 200 and "Start the exit</button>" in page.text

    yesterday = (date.today() - timedelta(days=1)).isoformat()
    refused = await post_form(
        operator, page_path, {"leaves_on": yesterday, "reason": ""}, page=page_path
    )
    assert refused.status_code == 422
    assert (
        "cannot be in the past" in refused.text and "Say why the clinic is leaving" in refused.text
    )
    async with rt.database.reading() as db:
        assert await db.get(TenantExit, clinic.tenant.id) is None

    leaves_on = date.today() + timedelta(days=30)
    started = await post_form(
        operator,
        page_path,
        {"leaves_on": leaves_on.isoformat(), "reason": "Moving to another system"},
        page=page_path,
    )
    assert started.status_code == 303
    shown = await operator.get(page_path)
    assert leaves_on.strftime("%d %B %Y") in shown.text and "Moving to another system" in shown.text
    async with rt.database.reading() as db:
        record = await db.get(TenantExit, clinic.tenant.id)
        tenant = await db.get(Tenant, clinic.tenant.id)
    assert record is not None and record.leaves_on == leaves_on and record.started_by is not None
    assert tenant is not None and tenant.leaves_on == leaves_on and tenant.status == "active"
    [recorded] = [e for e in await events(rt, clinic) if e.operation == "clinic_exit_started"]
    assert recorded.kind == "policy" and leaves_on.isoformat() in recorded.reason

    # The clinic's admins are told by email what happens when.
    assert [j.topic for j in await jobs(rt, clinic, clinic_exit.ADMIN_EMAIL_TOPIC)]
    await providers.run_jobs()
    told = [m for m in providers.mails() if clinic.admin.username in str(m["To"])]
    assert told, "the clinic admin was not told"
    assert leaves_on.strftime("%d %B %Y") in str(told[-1]["Subject"])

    # Before the day, the portal works as before.
    async with client_for(app, clinic.host) as portal:
        assert (await portal.get("/login")).status_code == 200


@pytest.mark.promise("P29")
async def test_from_the_exit_date_nobody_signs_in_and_nothing_is_deleted(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    other_clinic: Clinic,
    database_urls: dict[str, str],
    backend: str,
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    async with rt.database.writing() as db:
        tenant = await db.get(Tenant, clinic.tenant.id)
        assert tenant is not None
        await clinic_exit.start_exit(
            db,
            tenant,
            leaves_on=date.today().isoformat(),
            reason="Closing down",
            operator_id=None,
            today=date.today(),
        )
        await db.commit()
    rt.directory.forget_all()
    before = await _rows_per_table(database_urls[backend], clinic.tenant.id)

    closed = await consumer.get("/account")  # a session from before is no use either
    assert closed.status_code == 410 and "no longer uses this site" in closed.text
    async with client_for(app, clinic.host) as http:
        page = await http.get("/login")
        assert page.status_code == 410 and "Nobody can sign in here" in page.text
        refused = await http.post(
            "/login", data={"username": clinic.admin.username, "password": "x"}
        )
        assert refused.status_code == 410
        assert (await http.post("/api/v1/auth/login", json={})).status_code == 410
    async with client_for(app, other_clinic.host) as elsewhere:
        assert (await elsewhere.get("/login")).status_code == 200
    assert await _rows_per_table(database_urls[backend], clinic.tenant.id) == before


@pytest.mark.promise("P29")
@pytest.mark.promise("P27")
async def test_after_the_exit_period_every_row_and_the_key_go_and_the_other_clinic_stays(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    other_clinic: Clinic,
    providers: Providers,
    database_urls: dict[str, str],
    backend: str,
) -> None:
    url = database_urls[backend]
    # A clinic with a history: a booking paid for, messages, ledger entries, a sealed secret,
    # a Professional's photo.
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await pay(consumer, providers, await book(consumer, clinic, days_ahead=3))
    await providers.run_jobs()
    elsewhere = await signed_in(app, other_clinic, other_clinic.consumer.username)
    async with rt.database.writing(clinic.tenant.id) as db:
        sealed = await rt.data_keys.seal(db, clinic.tenant.id, "Trouble sleeping")
        profile = await db.get(Professional, (clinic.tenant.id, clinic.professional_id))
        assert profile is not None
        await photos.save_photo(db, profile, image())
        await db.commit()
    head = (await events(rt, clinic))[-1]
    mine, theirs = (
        await _rows_per_table(url, clinic.tenant.id),
        await _rows_per_table(url, other_clinic.tenant.id),
    )
    assert mine["ledger_events"] > 0 and mine["payments"] > 0 and mine["tenant_data_keys"] == 1
    assert mine["professional_photos"] == 1
    assert theirs["users"] > 0 and theirs["user_sessions"] > 0

    async with rt.database.writing() as db:
        tenant = await db.get(Tenant, clinic.tenant.id)
        assert tenant is not None
        await clinic_exit.start_exit(
            db,
            tenant,
            leaves_on=date.today().isoformat(),
            reason="Closing down",
            operator_id=None,
            today=date.today(),
        )
        await db.commit()
    mine = await _rows_per_table(url, clinic.tenant.id)  # with the admins' email job
    now = datetime.now(UTC)
    # Not yet: the period (6 months by default) has not passed.
    assert await clinic_exit.purge_due(rt.database, rt.data_keys, now=now) == []
    await _leaves(rt, clinic, date.today() - timedelta(days=200))

    dry = await clinic_exit.purge_due(rt.database, rt.data_keys, now=now, dry_run=True)
    assert [r.slug for r in dry] == [clinic.tenant.slug] and dry[0].counts == mine
    assert await _rows_per_table(url, clinic.tenant.id) == mine  # a dry run changes nothing

    done = await clinic_exit.purge_due(rt.database, rt.data_keys, now=now)
    assert [r.slug for r in done] == [clinic.tenant.slug]
    left = await _rows_per_table(url, clinic.tenant.id)
    assert left == dict.fromkeys(left, 0), {k: v for k, v in left.items() if v}
    assert await _rows_per_table(url, other_clinic.tenant.id) == theirs

    # The key is gone: what it sealed (in any backup) cannot be opened.
    async with rt.database.reading(clinic.tenant.id) as db:
        with pytest.raises(DataKeyMissing):
            await rt.data_keys.unseal(db, clinic.tenant.id, sealed)

    # The platform keeps its record of the purge, and nothing of the clinic's data.
    async with rt.database.reading() as db:
        record = await db.scalar(
            select(TenantPurge).where(TenantPurge.tenant_id == clinic.tenant.id)
        )
        tenant = await db.get(Tenant, clinic.tenant.id)
        exit_record = await db.get(TenantExit, clinic.tenant.id)
    assert record is not None and record.slug == clinic.tenant.slug
    assert record.counts == mine
    assert record.chain_head == head.hash and record.chain_length == head.seq
    assert tenant is not None and tenant.status == "purged"
    assert exit_record is not None and exit_record.purged_at is not None

    # Run again: nothing more to do; the portal is gone.
    assert await clinic_exit.purge_due(rt.database, rt.data_keys, now=now) == []
    rt.directory.forget_all()
    async with client_for(app, clinic.host) as http:
        assert (await http.get("/login")).status_code == 404
    assert (await elsewhere.get("/appointments")).status_code == 200


@pytest.mark.promise("P29")
async def test_the_clinic_downloads_its_full_export_built_by_the_worker(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await pay(consumer, providers, await book(consumer, clinic, days_ahead=3))
    await providers.run_jobs()
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert 'href="/admin/exit"' in (await admin.get("/admin")).text
    page = await admin.get("/admin/exit")
    assert page.status_code == 200 and "No export has been prepared yet" in page.text
    assert (await admin.get("/admin/exit/export.zip")).status_code == 404
    # Other roles cannot ask for it or fetch it.
    assert (await consumer.get("/admin/exit")).status_code in (403, 404)

    asked = await post_form(admin, "/admin/exit/export", {}, page="/admin/exit")
    assert asked.status_code == 303
    assert "being prepared" in (await admin.get("/admin/exit")).text
    await providers.run_jobs()  # the worker builds it
    ready = await admin.get("/admin/exit")
    assert "Download the clinic's full export</a>" in ready.text, ready.text[
        ready.text.find("<main") :
    ][:1500]
    download = await admin.get("/admin/exit/export.zip")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"

    history = await events(rt, clinic)
    taken = [e for e in history if e.operation == "clinic_export"]
    assert [(e.kind, e.actor_id, e.subject_id) for e in taken] == [
        ("export", clinic.admin.id, None)  # who took every patient's data, and when
    ]
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        names = archive.namelist()
        mine = [n for n in names if n.startswith(f"consumers/{clinic.consumer.username}-")]
        assert len(mine) == 1
        with zipfile.ZipFile(io.BytesIO(archive.read(mine[0]))) as one:
            data = json.loads(one.read("data.json"))
            assert {"data.json", "fhir.json", "summary.html"} <= set(one.namelist())
        assert data["sections"]["appointments"], "the patient's appointment is in their archive"
        ledger_lines = archive.read("ledger.jsonl").decode().splitlines()
        built_before = len(history) - len(taken)  # built before its own download's entry
        assert len(ledger_lines) >= built_before  # the export's own jobs may have added some
        assert json.loads(ledger_lines[0])["seq"] == 1
        billing = list(csv.DictReader(io.StringIO(archive.read("billing.csv").decode())))
        assert len(billing) == 1 and billing[0]["status"] == "paid"

    # Stored sealed with the clinic's key: the file on disk holds no readable record.
    stored = clinic_export.folder(rt.settings.var_dir, clinic.tenant.id) / "export.sealed"
    assert clinic.consumer.username.encode() not in stored.read_bytes()
    assert b"ledger.jsonl" not in stored.read_bytes()

    # Purged with the clinic.
    async with rt.database.writing() as db:
        tenant = await db.get(Tenant, clinic.tenant.id)
        assert tenant is not None
        await clinic_exit.start_exit(
            db,
            tenant,
            leaves_on=date.today().isoformat(),
            reason="Closing down",
            operator_id=None,
            today=date.today(),
        )
        await db.commit()
    await _leaves(rt, clinic, date.today() - timedelta(days=400))
    done = await clinic_exit.purge_due(
        rt.database,
        rt.data_keys,
        now=datetime.now(UTC),
        var_dir=rt.settings.var_dir,
    )
    assert [r.slug for r in done] == [clinic.tenant.slug]
    assert not stored.exists()


@pytest.mark.promise("P29")
async def test_the_worker_purges_a_departed_clinic_on_its_daily_scan(
    rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with rt.database.writing() as db:
        tenant = await db.get(Tenant, clinic.tenant.id)
        assert tenant is not None
        await clinic_exit.start_exit(
            db,
            tenant,
            leaves_on=date.today().isoformat(),
            reason="Closing down",
            operator_id=None,
            today=date.today(),
        )
        await db.commit()
    assert await purge_departed(rt) == 0  # it has only just left
    await _leaves(rt, clinic, date.today() - timedelta(days=365))
    assert await purge_departed(rt) > 0
    assert await purge_departed(rt) == 0  # nothing twice
    async with rt.database.reading() as db:
        gone = await db.get(Tenant, clinic.tenant.id)
        stays = await db.get(Tenant, other_clinic.tenant.id)
    assert gone is not None and gone.status == "purged"
    assert stays is not None and stays.status == "active"
