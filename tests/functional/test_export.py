"""Download my data (P31, P34 portability): a ZIP with data.json (everything held, the ledger
of who received it included), a FHIR R4 Bundle and a readable summary; only its owner can
download it, only until it expires, and each download is in the ledger."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle

from praxis.core import ledger
from praxis.core.datakeys import TenantDataKey
from praxis.core.db import utcnow
from praxis.core.ledger import EventKind
from praxis.core.privacy import export
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.flows import answer_intake, book_and_pay, signed_in, travel_to
from tests.provider_fixtures import Providers
from tests.support import Clinic, api_login, csrf_in, make_consumer, post_form

_LINK = re.compile(r'href="(/account/export/[0-9a-f-]{36}/download)"')


async def ask(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/account/export")
    assert page.status_code == 200
    return await client.post("/account/export", data={"csrf_token": csrf_in(page.text)})


async def download_link(client: httpx.AsyncClient) -> str:
    page = await client.get("/account/export")
    found = _LINK.search(page.text)
    assert found, page.text
    return found.group(1)


def archive(response: httpx.Response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    return zipfile.ZipFile(io.BytesIO(response.content))


@pytest.mark.promise("P31")
@pytest.mark.promise("P34")
async def test_a_consumer_downloads_everything_held_about_them_in_three_forms(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = await signed_in(app, clinic, clinic.consumer.username)
    visit = await book_and_pay(client, clinic, providers)
    await answer_intake(client, visit)
    await providers.run_jobs()
    assert 'href="/account/export"' in (await client.get("/account")).text

    asked = await ask(client)
    assert asked.status_code == 303
    zipped = archive(await client.get(await download_link(client)))
    assert sorted(zipped.namelist()) == ["data.json", "fhir.json", "summary.html"]

    data = json.loads(zipped.read("data.json"))
    sections = data["sections"]
    assert sections["account"][0]["email"] == f"{clinic.consumer.username}@example.org"
    assert "password_hash" not in sections["account"][0]
    assert [a["id"] for a in sections["appointments"]] == [str(visit)]
    assert sections["payments"][0]["appointment_id"] == str(visit)
    assert sections["payments"][0]["status"] == "paid"
    answers = sections["intake_answers"][0]["answers"]
    assert answers["concerns"] == "Trouble sleeping since the spring."
    assert {m["channel"] for m in sections["messages"]} == {"sms", "email"}
    recipients = {e["recipient"] for e in sections["disclosures"]}
    assert any("Twilio" in r for r in recipients), recipients  # who received my data
    assert any(e["operation"] == "access" for e in sections["disclosures"])  # the request

    bundle = json.loads(zipped.read("fhir.json"))
    Bundle.model_validate(bundle)  # valid FHIR (R4B: R4's Patient, Appointment, QR, Consent)
    kinds = sorted(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds == ["Appointment", "Consent", "Patient", "QuestionnaireResponse"]
    resources = [e["resource"] for e in bundle["entry"]]
    sharing = next(r for r in resources if r["resourceType"] == "Consent")
    assert sharing["provision"]["purpose"][0]["code"] == "intake_sharing.professional"
    assert sharing["provision"]["type"] == "permit"  # the intake answers were shared
    assert sharing["id"] == sections["consents"][0]["id"]
    patient = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["resource"]["telecom"][0]["value"] == "+447911123456"
    response = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    assert response["subject"]["reference"] == patient["fullUrl"]

    summary = zipped.read("summary.html").decode()
    assert "<h1>Your data held by Alpha Clinic</h1>" in summary
    assert "Trouble sleeping since the spring." in summary
    assert "Your appointments" in summary


@pytest.mark.promise("P31")
async def test_each_download_is_in_the_ledger_and_shown_to_the_consumer(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    client = await signed_in(app, clinic, clinic.consumer.username)
    await ask(client)
    link = await download_link(client)
    for _ in range(2):
        archive(await client.get(link))
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await ledger.subject_events(db, clinic.consumer.id, kinds=[EventKind.EXPORT])
    assert [(e.operation, e.recipient, e.actor_id) for e in found] == [
        ("download_my_data", export.HOLDER, clinic.consumer.id)
    ] * 2
    shown = await client.get("/account/disclosures")
    assert "(downloaded)" in shown.text


@pytest.mark.promise("P31")
async def test_only_its_owner_can_download_it_and_only_until_it_expires(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    other_clinic: Clinic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = await signed_in(app, clinic, clinic.consumer.username)
    await ask(client)
    link = await download_link(client)

    someone = await make_consumer(rt, clinic.tenant, "alpha.someone")
    stranger = await signed_in(app, clinic, someone.username)
    assert (await stranger.get(link)).status_code == 404
    elsewhere = await signed_in(app, other_clinic, other_clinic.consumer.username)
    assert (await elsewhere.get(link)).status_code == 404
    assert (await client_for(app, clinic.host).get(link)).status_code == 303  # sign in first
    staff = await signed_in(app, clinic, clinic.admin.username)
    assert (await staff.get(link)).status_code == 403
    unknown = f"/account/export/{uuid.uuid4()}/download"
    assert (await client.get(unknown)).status_code == 404

    travel_to(monkeypatch, utcnow() + export.VALID_FOR + timedelta(minutes=1))
    gone = await client.get(link)
    assert gone.status_code == 404 and "expired" in gone.text
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await ledger.subject_events(db, clinic.consumer.id, kinds=[EventKind.EXPORT]) == []


@pytest.mark.promise("P31")
async def test_a_large_history_is_built_by_the_worker(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "BUILT_AT_ONCE", 0)  # every history counts as large
    client = await signed_in(app, clinic, clinic.consumer.username)
    asked = await ask(client)
    assert asked.status_code == 303
    page = await client.get("/account/export")
    assert "being prepared" in page.text and not _LINK.search(page.text)
    again = await post_form(client, "/account/export", {})
    assert again.status_code == 303  # asking twice builds one archive
    assert await providers.run_jobs() == 1
    zipped = archive(await client.get(await download_link(client)))
    data = json.loads(zipped.read("data.json"))
    assert data["sections"]["account"][0]["username"] == clinic.consumer.username


@pytest.mark.promise("P31")
@pytest.mark.promise("P34")
async def test_the_api_asks_for_an_export_and_downloads_it_when_ready(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic, providers: Providers
) -> None:
    client = client_for(app, clinic.host)
    headers = await api_login(client, clinic.consumer.username)
    asked = await client.post("/api/v1/me/export", headers=headers)
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "queued" and asked.json()["download_url"] is None
    assert (await client.post("/api/v1/me/export")).status_code == 403  # no CSRF header
    assert await providers.run_jobs() == 1
    listed = (await client.get("/api/v1/me/export")).json()["data"]
    assert [e["status"] for e in listed] == ["ready"]
    url = listed[0]["download_url"]
    zipped = archive(await client.get(url))
    assert json.loads(zipped.read("data.json"))["format"] == export.FORMAT

    other = client_for(app, other_clinic.host)
    await api_login(other, other_clinic.consumer.username)
    assert (await other.get(url)).status_code == 404  # another clinic's: not found
    assert (await other.get("/api/v1/me/export")).json()["data"] == []


async def test_an_archive_that_cannot_be_sealed_says_so_instead_of_preparing_forever(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "BUILT_AT_ONCE", 0)
    async with rt.database.writing(clinic.tenant.id) as db:  # a key no secret opens any more
        db.add(TenantDataKey(wrapped_key="sealed-with-a-secret-since-replaced"))
        await db.commit()
    client = await signed_in(app, clinic, clinic.consumer.username)
    await ask(client)
    await providers.run_jobs()
    page = await client.get("/account/export")
    assert "could not be prepared" in page.text and not _LINK.search(page.text)
