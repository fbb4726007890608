"""The intake questionnaire: outstanding until completed, once per Professional (P03); read
only by a Professional the consumer booked, each reading in the ledger (P04); sealed at rest
with the clinic's own key (P06); imported and exported by the clinic as FHIR R4."""

from __future__ import annotations

import copy
import html
import json
import uuid
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from praxis.core.accounts.models import Professional
from praxis.core.crypto import Keyring
from praxis.core.datakeys import _PURPOSE as DATA_KEY_PURPOSE
from praxis.core.errors import NotAllowed
from praxis.core.intake import services as intake
from praxis.core.intake.models import IntakeQuestionnaire, IntakeResponse
from praxis.core.runtime import Runtime
from tests.conftest import TEST_SECRET, client_for
from tests.functional.flows import (
    ANSWERS,
    answer_intake,
    appointment,
    book,
    book_and_pay,
    events,
    signed_in,
    travel_to,
)
from tests.provider_fixtures import Providers
from tests.support import (
    Clinic,
    count_rows,
    login,
    make_consumer,
    make_professional,
    post_form,
)

PRO_NAME = "Alpha.Pro Example"
OUTSTANDING = "<strong>outstanding</strong>"


async def profile(rt: Runtime, clinic: Clinic, professional_id: uuid.UUID) -> Professional:
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.get(Professional, (clinic.tenant.id, professional_id))
        assert found is not None
        return found


def health_events(found: list[Any]) -> list[tuple[str, str, str, str, Any, Any]]:
    return [
        (e.kind, e.operation, e.categories, e.recipient, e.recipient_id, e.subject_id)
        for e in found
        if e.kind in ("access", "export")
    ]


# --- P03: completed before the first consultation with each Professional ------------------------


@pytest.mark.promise("P03")
async def test_the_questionnaire_is_outstanding_until_done_once_per_professional(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_id, _, other_kinds = await make_professional(rt, clinic.tenant, "alpha.second")
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    first = await book_and_pay(consumer, clinic, providers, days_ahead=2)
    await providers.run_jobs()
    page = f"/appointments/{first}"
    assert OUTSTANDING in (await consumer.get(page)).text
    pro = await signed_in(app, clinic, clinic.professional.username)
    assert "Outstanding" in (await pro.get(f"/workspace/appointments/{first}")).text

    # Joining is refused until it is done, even when the room is open.
    travel_to(monkeypatch, (await appointment(rt, clinic, first)).starts_at)
    join = await consumer.get(f"{page}/join")
    assert join.status_code == 303 and join.headers["location"] == f"{page}/intake"
    assert "complete the questionnaire before you join" in (await consumer.get(page)).text

    # Wrong answers change nothing; right ones end the "outstanding".
    bad = await post_form(consumer, f"{page}/intake", {**ANSWERS, "answer.height": "tall"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    assert await count_rows(rt, clinic, IntakeResponse) == 0
    await answer_intake(consumer, first)
    assert OUTSTANDING not in (await consumer.get(page)).text
    assert "Outstanding" not in (await pro.get(f"/workspace/appointments/{first}")).text
    joined = await consumer.get(f"{page}/join")
    assert joined.headers["location"].startswith(providers.fakes.url(1) + "/room/")
    monkeypatch.undo()

    # Again with the same Professional: not asked again. With another: asked.
    second = await book(consumer, clinic, days_ahead=3)
    assert OUTSTANDING not in (await consumer.get(f"/appointments/{second}")).text
    third = await book(
        consumer, clinic, professional_id=other_id, type_id=other_kinds["Standard"], days_ahead=2
    )
    third_page = (await consumer.get(f"/appointments/{third}")).text
    assert OUTSTANDING in third_page and "Alpha.Second Example" in third_page
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await intake.outstanding(db, clinic.tenant, clinic.consumer.id, other_id)
        assert not await intake.outstanding(
            db, clinic.tenant, clinic.consumer.id, clinic.professional_id
        )


# --- P04: only a booked Professional, and every reading recorded --------------------------------


@pytest.mark.promise("P04")
async def test_only_the_booked_professional_reads_the_answers_and_each_reading_is_recorded(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic, providers: Providers
) -> None:
    colleague_id, colleague, _ = await make_professional(rt, clinic.tenant, "alpha.colleague")
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic, days_ahead=2)
    await answer_intake(consumer, appointment_id)
    answers_page = f"/workspace/appointments/{appointment_id}/intake"

    pro = await signed_in(app, clinic, clinic.professional.username)
    for _ in range(2):
        read = await pro.get(answers_page)
        assert read.status_code == 200 and "172.5" in read.text
        assert "Trouble sleeping since the spring." in read.text
    download = await pro.get(f"{answers_page}.json")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/fhir+json")
    response = download.json()
    assert response["resourceType"] == "QuestionnaireResponse"
    assert response["subject"] == {"reference": f"Patient/{clinic.consumer.id}"}

    # A colleague at the same clinic, the consumer, the admin, another clinic: none of them.
    other = await signed_in(app, clinic, colleague.username)
    refused = await other.get(answers_page)
    assert refused.status_code == 404 and "172.5" not in refused.text
    assert (await other.get(f"{answers_page}.json")).status_code == 404
    with pytest.raises(NotAllowed):
        desk = intake.Desk(rt.database, rt.providers(clinic.tenant), rt.data_keys, clinic.tenant)
        await intake.answers_for(desk, await profile(rt, clinic, colleague_id), clinic.consumer.id)
    assert (await consumer.get(answers_page)).status_code == 403
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert (await admin.get(answers_page)).status_code == 403
    async with client_for(app, other_clinic.host) as elsewhere:
        await login(elsewhere, other_clinic.professional.username)
        for path in (answers_page, f"{answers_page}.json"):
            found = await elsewhere.get(path)
            assert found.status_code == 404 and "172.5" not in found.text

    # Exactly three readings, each named: two views and one download by the booked one.
    pro_id = clinic.professional_id
    subject = clinic.consumer.id
    assert health_events(await events(rt, clinic)) == [
        ("access", "view_intake_answers", "health", PRO_NAME, pro_id, subject),
        ("access", "view_intake_answers", "health", PRO_NAME, pro_id, subject),
        ("export", "download_intake_answers", "health", PRO_NAME, pro_id, subject),
    ]
    mine = (await consumer.get("/account/disclosures")).text
    assert mine.count("health information (read)") == 2
    assert mine.count("health information (downloaded)") == 1
    assert PRO_NAME in mine and "Alpha.Colleague Example" not in mine


@pytest.mark.promise("P04")
async def test_without_consent_to_share_the_professional_sees_only_that(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic, days_ahead=2)
    await answer_intake(consumer, appointment_id, share=False)
    assert OUTSTANDING not in (await consumer.get(f"/appointments/{appointment_id}")).text
    pro = await signed_in(app, clinic, clinic.professional.username)
    answers_page = f"/workspace/appointments/{appointment_id}/intake"
    read = await pro.get(answers_page)
    assert read.status_code == 200
    assert "did not agree to share the answers with you" in read.text
    assert "172.5" not in read.text and "Trouble sleeping" not in read.text
    assert "has been recorded" not in read.text
    download = await pro.get(f"{answers_page}.json")
    assert download.status_code == 303
    assert download.headers["location"] == f"/workspace/appointments/{appointment_id}"
    found = await events(rt, clinic)
    assert health_events(found) == []
    consents = [(e.operation, e.reason) for e in found if e.kind == "consent"]
    assert consents == [("share_intake_answers", "refused")]
    assert "health information (read)" not in (await consumer.get("/account/disclosures")).text


# --- P06: sealed at rest with the clinic's own key ----------------------------------------------


@pytest.mark.promise("P06")
async def test_answers_are_encrypted_at_rest_with_a_wrapped_tenant_key(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    providers: Providers,
    database_urls: dict[str, str],
    backend: str,
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic, days_ahead=2)
    await answer_intake(consumer, appointment_id)

    owner = create_async_engine(database_urls[backend])  # as a DBA, or a stolen backup, reads
    try:
        async with owner.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT tenant_id, answers_sealed FROM intake_responses")
                )
            ).all()
            keys = (
                await connection.execute(
                    text("SELECT tenant_id, wrapped_key FROM tenant_data_keys")
                )
            ).all()
    finally:
        await owner.dispose()
    assert len(rows) == 1 and len(keys) == 1
    sealed, wrapped = rows[0][1], keys[0][1]
    # Long or unencodable strings only: a two-digit number turns up in random base64 by chance.
    for plain in ("172.5", "Trouble sleeping", "spring", "concerns", "height"):
        assert plain not in sealed, plain
    assert str(sealed).startswith("gAAAA")  # a Fernet token

    # The key is stored only wrapped by the platform key: useless alone, or with another secret.
    raw_key = rt.keyring.unseal(DATA_KEY_PURPOSE, wrapped)
    assert raw_key is not None and raw_key not in wrapped and wrapped != raw_key
    with pytest.raises(ValueError):
        Fernet(wrapped.encode())
    stranger = Keyring(TEST_SECRET[::-1].encode())
    assert stranger.unseal(DATA_KEY_PURPOSE, wrapped) is None
    opened = json.loads(Fernet(raw_key.encode()).decrypt(sealed.encode()))
    assert opened["height"] == 172.5 and opened["concerns"] == ANSWERS["answer.concerns"]

    # Nor do the answers reach the ledger: ids, categories and purposes only.
    ledger_text = json.dumps(
        [[e.recipient, e.purpose, e.legal_basis, e.reason] for e in await events(rt, clinic)]
    )
    assert "Trouble sleeping" not in ledger_text and "172.5" not in ledger_text


# --- the clinic's own questionnaire: FHIR import and export --------------------------------------


def with_allergies(resource: dict[str, Any]) -> dict[str, Any]:
    mine = copy.deepcopy(resource)
    mine["title"] = "Alpha intake"
    mine["version"] = "2.0.0"
    mine["item"].append(
        {"linkId": "allergies", "text": "Any allergies?", "type": "string", "required": True}
    )
    return mine


async def questionnaires(rt: Runtime, clinic: Clinic) -> list[tuple[str, bool]]:
    async with rt.database.reading(clinic.tenant.id) as db:
        rows = await db.scalars(
            select(IntakeQuestionnaire).order_by(IntakeQuestionnaire.created_at)
        )
        return [(row.version, row.active) for row in rows]


async def test_an_imported_questionnaire_is_used_for_new_answers_and_exports_back(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    exported = await admin.get("/admin/questionnaire.json")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/fhir+json")
    default = exported.json()
    assert default["resourceType"] == "Questionnaire"

    mine = with_allergies(default)
    imported = await post_form(admin, "/admin/questionnaire", {"resource": json.dumps(mine)})
    assert imported.status_code == 303, imported.text
    shown = await admin.get("/admin/questionnaire")
    assert "Alpha intake" in shown.text and "Any allergies?" in shown.text
    assert await questionnaires(rt, clinic) == [("1.0.0", False), ("2.0.0", True)]

    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic, days_ahead=2)
    form = await consumer.get(f"/appointments/{appointment_id}/intake")
    assert 'name="answer.allergies"' in form.text
    missing = await post_form(consumer, f"/appointments/{appointment_id}/intake", ANSWERS)
    assert missing.status_code == 422 and "Any allergies?" in missing.text
    saved = await post_form(
        consumer,
        f"/appointments/{appointment_id}/intake",
        {**ANSWERS, "answer.allergies": "Penicillin"},
    )
    assert saved.status_code == 303, saved.text
    async with rt.database.reading(clinic.tenant.id) as db:
        response = await db.scalar(select(IntakeResponse))
        current = await db.scalar(
            select(IntakeQuestionnaire).where(IntakeQuestionnaire.active.is_(True))
        )
    assert response is not None and current is not None
    assert response.questionnaire_id == current.id

    # Round trip: what is exported is what was imported, and imports again as it is.
    again = await admin.get("/admin/questionnaire.json")
    assert again.json() == mine
    reimported = await post_form(admin, "/admin/questionnaire", {"resource": again.text})
    assert reimported.status_code == 303
    assert (await admin.get("/admin/questionnaire.json")).json() == mine
    assert [active for _, active in await questionnaires(rt, clinic)] == [False, False, True]


def without(resource: dict[str, Any], link_id: str) -> dict[str, Any]:
    trimmed = copy.deepcopy(resource)
    trimmed["item"] = [i for i in trimmed["item"] if i["linkId"] != link_id]
    return trimmed


def optional(resource: dict[str, Any], link_id: str) -> dict[str, Any]:
    changed = copy.deepcopy(resource)
    for item in changed["item"]:
        if item["linkId"] == link_id:
            item["required"] = False
    return changed


async def test_a_bad_questionnaire_is_refused_with_reasons_and_changes_nothing(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    default = (await admin.get("/admin/questionnaire.json")).json()
    attachment = copy.deepcopy(default)
    attachment["item"].append({"linkId": "scan", "text": "Your scan", "type": "attachment"})
    cases = [
        ("{ not json", "This is not JSON"),
        ("[" * 50_000, "nested too deeply"),  # once a RecursionError: a 500
        ('{"resourceType": "Questionnaire", "version": ' + "9" * 5_000 + "}", "at most 40"),
        ("[1, 2]", "one FHIR Questionnaire resource"),
        (json.dumps({"resourceType": "Patient"}), "Questionnaire"),
        (json.dumps(attachment), "files cannot be uploaded"),
        (json.dumps(without(default, "height")), 'linkId "height"'),
        (json.dumps(without(default, "weight")), "the consumer's weight"),
        (json.dumps(without(default, "concerns")), 'add a question with linkId "concerns"'),
        (json.dumps(optional(default, "concerns")), "must be required and asked of everyone"),
        (json.dumps(without(default, "share-with-professional")), "consent to share"),
    ]
    before = await questionnaires(rt, clinic)
    for typed, message in cases:
        refused = await post_form(admin, "/admin/questionnaire", {"resource": typed})
        assert refused.status_code == 422, typed
        assert message in html.unescape(refused.text), typed
        assert 'class="error-summary"' in refused.text and 'aria-invalid="true"' in refused.text
        assert await questionnaires(rt, clinic) == before
    assert (await admin.get("/admin/questionnaire.json")).json() == default

    conditional = copy.deepcopy(default)
    for item in conditional["item"]:
        if item["linkId"] == "weight":
            item["enableWhen"] = [{"question": "height", "operator": ">", "answerDecimal": 100}]
    refused = await post_form(admin, "/admin/questionnaire", {"resource": json.dumps(conditional)})
    assert refused.status_code == 422 and '"weight" question' in html.unescape(refused.text)


async def test_only_clinic_admins_manage_the_questionnaire(
    app: Any, clinic: Clinic, providers: Providers
) -> None:
    for who in (clinic.consumer.username, clinic.professional.username):
        client = await signed_in(app, clinic, who)
        assert (await client.get("/admin/questionnaire")).status_code == 403
        assert (await client.get("/admin/questionnaire.json")).status_code == 403


async def test_intake_answers_are_for_the_appointment_the_consumer_owns(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic, days_ahead=2)
    other = await signed_in(app, clinic, clinic.admin.username)
    assert (await other.get(f"/appointments/{appointment_id}/intake")).status_code == 403
    stranger = await make_consumer(rt, clinic.tenant, "alpha.stranger")
    theirs = await signed_in(app, clinic, stranger.username)
    page = f"/appointments/{appointment_id}/intake"
    assert (await theirs.get(page)).status_code == 404
    assert (await post_form(theirs, page, ANSWERS, page="/appointments")).status_code == 404
    assert await count_rows(rt, clinic, IntakeResponse) == 0
