"""The right to correction (P32): a consumer corrects their details in the portal, the
password guards the email address and phone number, the old address is told, the ledger
records which fields changed (never the values), and staff see who had the old data."""

from __future__ import annotations

from typing import Any

import pytest

from praxis.core import ledger
from praxis.core.accounts.models import User
from praxis.core.ledger import EventKind
from praxis.core.privacy.correction import RECTIFICATION
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.flows import book_and_pay, signed_in
from tests.functional.test_ledger_pages import rows_of
from tests.provider_fixtures import Providers
from tests.support import PASSWORD, Clinic, api_login, make_consumer, person_fields, post_form

NEW_PHONE = "07400 123456"


def details(username: str, **changes: str) -> dict[str, str]:
    fields = person_fields(username, **changes)
    fields.pop("username")
    fields.pop("password")
    return fields


async def _user(rt: Runtime, clinic: Clinic) -> User:
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.get(User, (clinic.tenant.id, clinic.consumer.id))
        assert found is not None
        return found


@pytest.mark.promise("P32")
async def test_a_consumer_corrects_their_name_and_address_and_the_ledger_says_which_fields(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    client = await signed_in(app, clinic, clinic.consumer.username)
    account = await client.get("/account")
    assert 'href="/account/details"' in account.text
    form = await client.get("/account/details")
    assert form.status_code == 200
    assert 'value="1 High Street"' in form.text  # the current details, ready to correct
    changes = details(
        clinic.consumer.username, full_name="Alpha Consumer-Jones", address_line1="2 Low Road"
    )
    saved = await post_form(client, "/account/details", changes)
    assert saved.status_code == 303 and saved.headers["location"] == "/account"

    user = await _user(rt, clinic)
    assert (user.full_name, user.address_line1) == ("Alpha Consumer-Jones", "2 Low Road")
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await ledger.subject_events(
            db, clinic.consumer.id, kinds=[EventKind.RIGHTS_REQUEST]
        )
    assert [(e.operation, e.category_list) for e in found] == [(RECTIFICATION, ["address", "name"])]
    assert found[0].actor_id == clinic.consumer.id
    assert "Jones" not in found[0].reason and "Low Road" not in found[0].reason  # no values
    assert "full_name" in found[0].reason and "address_line1" in found[0].reason


@pytest.mark.promise("P32")
async def test_a_bad_field_gets_its_own_message_and_nothing_changes(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    client = await signed_in(app, clinic, clinic.consumer.username)
    bad = details(clinic.consumer.username, full_name="New Name", postcode="nowhere", phone="12")
    answer = await post_form(client, "/account/details", bad)
    assert answer.status_code == 422
    assert "Enter a UK postcode, like SW1A 1AA." in answer.text
    assert 'id="f-phone-error"' in answer.text
    assert "nowhere" in answer.text  # what was typed stays to correct
    user = await _user(rt, clinic)
    assert user.full_name != "New Name" and user.postcode == "N1 1AA"
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await ledger.subject_events(db, clinic.consumer.id) == []


@pytest.mark.promise("P32")
async def test_changing_the_phone_asks_for_the_password_again(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    client = await signed_in(app, clinic, clinic.consumer.username)
    changes = details(clinic.consumer.username, phone=NEW_PHONE)
    refused = await post_form(client, "/account/details", changes)
    assert refused.status_code == 422
    assert "Enter your current password" in refused.text
    wrong = await post_form(
        client, "/account/details", {**changes, "current_password": "not-my-password"}
    )
    assert wrong.status_code == 422
    assert (await _user(rt, clinic)).phone == "+447911123456"
    done = await post_form(client, "/account/details", {**changes, "current_password": PASSWORD})
    assert done.status_code == 303
    assert (await _user(rt, clinic)).phone == "+447400123456"


@pytest.mark.promise("P32")
async def test_the_old_email_address_is_told_of_a_change(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = await signed_in(app, clinic, clinic.consumer.username)
    old = f"{clinic.consumer.username}@example.org"
    changes = details(clinic.consumer.username, email="new.address@example.org")
    done = await post_form(client, "/account/details", {**changes, "current_password": PASSWORD})
    assert done.status_code == 303
    assert (await _user(rt, clinic)).email == "new.address@example.org"
    assert await providers.run_jobs() == 1
    told = providers.mails()[-1]
    assert told["To"] == old
    assert told["Subject"] == "Your email address was changed"
    body = told.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "new.address@example.org" not in body  # the new address is not given away


async def test_the_person_is_told_by_email_when_their_phone_changes(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = await signed_in(app, clinic, clinic.consumer.username)
    changes = details(clinic.consumer.username, phone=NEW_PHONE)
    done = await post_form(client, "/account/details", {**changes, "current_password": PASSWORD})
    assert done.status_code == 303
    await providers.run_jobs()
    told = [m for m in providers.mails() if m["Subject"] == "Your phone number was changed"]
    assert [m["To"] for m in told] == [f"{clinic.consumer.username}@example.org"]
    body = told[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "7400" not in body  # the new number is not given away


@pytest.mark.promise("P32")
async def test_staff_see_which_recipients_had_the_old_data(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await book_and_pay(consumer, clinic, providers)
    await providers.run_jobs()  # the confirmation text and email: phone and email disclosed
    changes = details(clinic.consumer.username, phone=NEW_PHONE, full_name="Alpha Renamed")
    done = await post_form(consumer, "/account/details", {**changes, "current_password": PASSWORD})
    assert done.status_code == 303

    admin = await signed_in(app, clinic, clinic.admin.username)
    assert 'href="/admin/corrections"' in (await admin.get("/admin")).text
    page = await admin.get("/admin/corrections")
    assert page.status_code == 200
    assert clinic.consumer.username in page.text
    rows = {row[0].strip(): row[1] for row in rows_of(page.text)}
    assert any("Twilio" in name for name in rows), rows  # the SMS processor had the old phone
    sms = next(had for name, had in rows.items() if "Twilio" in name)
    assert "your phone number" in sms
    assert "address" not in " ".join(rows.values())  # the address was not corrected


async def test_another_clinics_staff_and_consumers_cannot_reach_the_pages(
    app: Any, clinic: Clinic
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    assert (await consumer.get("/admin/corrections")).status_code == 403
    pro = await signed_in(app, clinic, clinic.professional.username)
    assert (await pro.get("/account/details")).status_code == 403


@pytest.mark.promise("P32")
async def test_the_api_corrects_a_field_and_guards_the_phone(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    client = client_for(app, clinic.host)
    headers = await api_login(client, clinic.consumer.username)
    fixed = await client.patch("/api/v1/me", json={"town": "Leeds"}, headers=headers)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["address"]["town"] == "Leeds"
    assert fixed.json()["full_name"] == "Alpha.Consumer Example"  # left out: unchanged

    bad = await client.patch("/api/v1/me", json={"postcode": "nowhere"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {"postcode": "Enter a UK postcode, like SW1A 1AA."}
    guarded = await client.patch("/api/v1/me", json={"phone": NEW_PHONE}, headers=headers)
    assert guarded.status_code == 422
    assert set(guarded.json()["error"]["fields"]) == {"current_password"}
    done = await client.patch(
        "/api/v1/me", json={"phone": NEW_PHONE, "current_password": PASSWORD}, headers=headers
    )
    assert done.status_code == 200 and done.json()["phone"] == "+447400123456"
    assert (await client.patch("/api/v1/me", json={"town": "York"})).status_code == 403  # CSRF

    async with rt.database.reading(clinic.tenant.id) as db:
        found = await ledger.subject_events(
            db, clinic.consumer.id, kinds=[EventKind.RIGHTS_REQUEST]
        )
    assert [e.category_list for e in found] == [["phone"], ["address"]]


@pytest.mark.promise("P32")
async def test_staff_carry_out_a_written_request_and_the_ledger_says_who_and_how(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert 'href="/admin/corrections/new"' in (await admin.get("/admin/corrections")).text
    unknown = await admin.get("/admin/corrections/new?consumer=nobody.here")
    assert unknown.status_code == 422 and "no consumer with that username" in unknown.text
    page = f"/admin/corrections/new?consumer={clinic.consumer.username}"
    shown = await admin.get(page)
    assert shown.status_code == 200 and 'value="1 High Street"' in shown.text

    changes = {
        **details(clinic.consumer.username, town="Bristol", phone=NEW_PHONE),
        "consumer": clinic.consumer.username,
    }
    missing = await post_form(admin, "/admin/corrections/new", changes, page=page)
    assert missing.status_code == 422 and 'id="f-received_by-error"' in missing.text
    assert (await _user(rt, clinic)).town == "London"
    done = await post_form(
        admin, "/admin/corrections/new", {**changes, "received_by": "post"}, page=page
    )
    assert done.status_code == 303, done.text
    user = await _user(rt, clinic)
    assert (user.town, user.phone) == ("Bristol", "+447400123456")  # no password: staff checked
    async with rt.database.reading(clinic.tenant.id) as db:
        (event,) = await ledger.subject_events(
            db, clinic.consumer.id, kinds=[EventKind.RIGHTS_REQUEST]
        )
    assert event.actor_id == clinic.admin.id
    assert event.reason == "corrected by staff on a request received by post: phone, town"
    listed = await admin.get("/admin/corrections")
    assert "Corrected by staff on a request received by post." in listed.text


async def test_a_consumer_cannot_use_the_staff_correction(app: Any, clinic: Clinic) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    assert (await consumer.get("/admin/corrections/new")).status_code == 403


async def test_staff_narrow_the_corrections_to_one_consumer(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    other = await make_consumer(rt, clinic.tenant, "alpha.other")
    for who in (clinic.consumer.username, other.username):
        client = await signed_in(app, clinic, who)
        done = await post_form(client, "/account/details", details(who, town="Bath"))
        assert done.status_code == 303
    admin = await signed_in(app, clinic, clinic.admin.username)
    both = await admin.get("/admin/corrections")
    assert clinic.consumer.username in both.text and other.username in both.text
    one = await admin.get("/admin/corrections", params={"consumer": other.username})
    assert other.username in one.text and f"{clinic.consumer.username}:" not in one.text
    none = await admin.get("/admin/corrections", params={"consumer": "nobody.here"})
    assert "No corrections for that consumer." in none.text
