"""praxis.core.privacy.export: the archive is written in one pass a page of rows at a time,
holds every record once in data.json, fhir.json (valid FHIR) and summary.html, takes sections
other domains register, and is deleted when its link expires."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select

from praxis.core.accounts.models import User
from praxis.core.booking.models import Appointment, AppointmentStatus
from praxis.core.db import utcnow
from praxis.core.privacy import export
from praxis.core.privacy.models import DataExport, DataExportChunk, ExportStatus
from praxis.core.runtime import Runtime
from praxis.core.worker import purge_expired_exports
from tests.support import Clinic

VISITS = 5


async def add_visits(rt: Runtime, clinic: Clinic, count: int = VISITS) -> None:
    """Appointments straight into the table: the export reads rows, however they came."""
    start = utcnow().replace(microsecond=0) + timedelta(days=2)
    statuses = [s.value for s in AppointmentStatus]
    async with rt.database.writing(clinic.tenant.id) as db:
        for i in range(count):
            db.add(
                Appointment(
                    professional_id=clinic.professional_id,
                    consumer_id=clinic.consumer.id,
                    consultation_type_id=clinic.kinds["Standard"],
                    # the latest first: the export must sort them, not keep the table's order
                    starts_at=start + timedelta(hours=count - i),
                    ends_at=start + timedelta(hours=count - i, minutes=30),
                    status=statuses[i % len(statuses)],
                    mode="video",
                    price_minor=4000,
                    currency="GBP",
                )
            )
        await db.commit()


async def written(rt: Runtime, clinic: Clinic) -> tuple[zipfile.ZipFile, int]:
    target = io.BytesIO()
    async with rt.database.reading(clinic.tenant.id) as db:
        user = await db.get(User, (clinic.tenant.id, clinic.consumer.id))
        assert user is not None
        source = export.Source(db, clinic.tenant, user, rt.data_keys)
        records = await export.write_archive(source, target, now=utcnow())
    return zipfile.ZipFile(io.BytesIO(target.getvalue())), records


@pytest.mark.promise("P31")
async def test_every_record_is_written_once_across_pages_of_rows(
    rt: Runtime, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PAGE", 2)  # five appointments: three pages
    await add_visits(rt, clinic)
    zipped, records = await written(rt, clinic)
    data = json.loads(zipped.read("data.json"))
    ids = [a["id"] for a in data["sections"]["appointments"]]
    assert len(ids) == len(set(ids)) == VISITS
    starts = [a["starts_at"] for a in data["sections"]["appointments"]]
    assert starts == sorted(starts)  # in date order, across pages
    assert records == sum(len(rows) for rows in data["sections"].values())

    bundle = json.loads(zipped.read("fhir.json"))
    Bundle.model_validate(bundle)
    appointments = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Appointment"
    ]
    assert sorted(a["id"] for a in appointments) == sorted(ids)
    assert {a["status"] for a in appointments} == {"pending", "booked", "cancelled"}
    assert zipped.read("summary.html").decode().count("<tr>") >= VISITS + 1


@pytest.mark.promise("P31")
async def test_a_section_another_domain_registers_is_in_every_form(
    rt: Runtime, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def visits(src: export.Source) -> AsyncIterator[dict[str, Any]]:
        yield {"place": "front desk", "at": utcnow()}

    monkeypatch.setitem(export.SECTIONS, "front_desk_visits", visits)
    monkeypatch.setitem(export.TITLES, "front_desk_visits", "Your visits to the front desk")
    zipped, _ = await written(rt, clinic)
    data = json.loads(zipped.read("data.json"))
    assert data["sections"]["front_desk_visits"][0]["place"] == "front desk"
    assert "<h2>Your visits to the front desk</h2>" in zipped.read("summary.html").decode()


async def test_an_unknown_value_is_refused_rather_than_written_wrongly() -> None:
    with pytest.raises(TypeError):
        export.plain(object())


async def test_an_archive_is_stored_sealed_and_deleted_when_its_link_expires(
    rt: Runtime, clinic: Clinic
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        user = await db.get(User, (clinic.tenant.id, clinic.consumer.id))
        assert user is not None
        asked = await export.request(db, clinic.tenant, user)
        await db.commit()
    assert await export.build(rt.database, rt.data_keys, clinic.tenant, asked.id)
    assert not await export.build(rt.database, rt.data_keys, clinic.tenant, asked.id)  # once
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.get(DataExport, (clinic.tenant.id, asked.id))
        assert found is not None and found.status == ExportStatus.READY.value
        chunk = await db.get(DataExportChunk, (clinic.tenant.id, asked.id, 0))
        assert chunk is not None
        assert clinic.consumer.username not in chunk.sealed  # nothing readable at rest
    body = b"".join(
        [b async for b in export.chunks(rt.database, rt.data_keys, clinic.tenant.id, asked.id)]
    )
    assert len(body) == found.size_bytes
    assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None

    assert await purge_expired_exports(rt, [clinic.tenant]) == 0  # not yet
    later = found.expires_at + timedelta(seconds=1)
    assert await purge_expired_exports(rt, [clinic.tenant], now=later) == 1
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await db.scalar(select(func.count()).select_from(DataExportChunk)) == 0
        assert await db.get(DataExport, (clinic.tenant.id, asked.id)) is None


async def test_forgetting_a_person_deletes_every_archive_of_theirs_only(
    rt: Runtime, clinic: Clinic
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        for person in (clinic.consumer, clinic.admin):
            user = await db.get(User, (clinic.tenant.id, person.id))
            assert user is not None
            asked = await export.request(db, clinic.tenant, user)
        await db.commit()
    await export.build(rt.database, rt.data_keys, clinic.tenant, asked.id)  # the admin's
    async with rt.database.writing(clinic.tenant.id) as db:
        assert await export.forget(db, clinic.consumer.id) == 1
        assert await export.forget(db, clinic.admin.id) == 1
        assert await export.forget(db, clinic.admin.id) == 0
        await db.commit()
        assert await db.scalar(select(func.count()).select_from(DataExportChunk)) == 0
