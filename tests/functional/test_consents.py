"""Account -> Privacy and consents: every consent with its state and since when, each changed
in one step and recorded (P35); a withdrawal counts before the next send, even for a message
already queued (P18); intake sharing withdrawn shuts the Professional out from then on."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from praxis.core.consents import services as consents
from praxis.core.consents.kinds import MARKETING, SERVICE_EMAIL
from praxis.core.notifications.models import SentMessage
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.flows import (
    CONSUMER_PHONE,
    answer_intake,
    book,
    book_and_pay,
    events,
    signed_in,
)
from tests.provider_fixtures import Providers
from tests.support import Clinic, api_login, post_form

PAGE = "/account/privacy"


def state_of(page: str, label: str) -> str:
    """The state column of the row headed ``label``, as a person reads it."""
    text = html.unescape(re.sub(r"\s+", " ", page))
    found = re.search(re.escape(label) + r".*?</th> <td>(Given|Not given)", text)
    assert found, label
    return found.group(1)


async def choose(client: Any, consent: str, give: bool, scope: str = "") -> Any:
    form = {"consent": consent, "give": "yes" if give else "no", "scope": scope}
    return await post_form(client, PAGE, form)


async def sent(rt: Runtime, clinic: Clinic) -> list[tuple[str, str, str]]:
    async with rt.database.reading(clinic.tenant.id) as db:
        rows = await db.scalars(select(SentMessage).order_by(SentMessage.created_at))
        return [(m.channel, m.template, m.status) for m in rows]


@pytest.mark.promise("P35")
async def test_each_consent_is_shown_and_changed_in_one_step_and_recorded(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    account = await consumer.get("/account")
    assert 'href="/account/privacy">Privacy and consents<' in account.text
    page = (await consumer.get(PAGE)).text
    assert state_of(page, "Appointment messages by text") == "Given"
    assert state_of(page, "News and offers by email") == "Not given"
    assert page.count(">Withdraw<") == 2 and page.count(">Give consent<") == 2
    assert "Analytics cookies" not in page  # asked only where the clinic counts visits

    changed = await choose(consumer, "marketing.email", True)
    assert changed.status_code == 303 and changed.headers["location"] == PAGE
    page = (await consumer.get(PAGE)).text
    assert "You gave consent to: news and offers by email." in html.unescape(page)
    assert state_of(page, "News and offers by email") == "Given"
    assert "in the portal" in page
    assert state_of(page, "News and offers by text") == "Not given"  # the other channel

    await choose(consumer, "marketing.email", False)
    page = (await consumer.get(PAGE)).text
    assert state_of(page, "News and offers by email") == "Not given"
    consents = [
        (e.operation, e.subject_id, e.actor_id)
        for e in await events(rt, clinic)
        if e.kind == "consent"
    ]
    me = clinic.consumer.id
    assert consents == [
        ("marketing_email_opt_in", me, me),
        ("marketing_email_opt_out", me, me),
    ]


@pytest.mark.promise("P18")
@pytest.mark.promise("P35")
async def test_a_withdrawal_stops_a_message_already_queued(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await book_and_pay(consumer, clinic, providers, days_ahead=2)  # confirmation jobs queued
    await choose(consumer, "service.sms", False)  # before the worker gets to them
    await providers.run_jobs()
    assert [m for m in providers.twilio.messages if m.to == CONSUMER_PHONE] == []
    assert ("sms", "payment_confirmed", "skipped") in await sent(rt, clinic)
    assert len(providers.mails()) == 1  # the email was not withdrawn: it went
    twilio = [e for e in await events(rt, clinic) if e.recipient == "Twilio Ireland Limited"]
    assert twilio == []  # nothing about the consumer reached the SMS provider

    # Given again, the next message goes.
    await choose(consumer, "service.sms", True)
    await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await providers.run_jobs()
    assert len([m for m in providers.twilio.messages if m.to == CONSUMER_PHONE]) == 1


@pytest.mark.promise("P35")
async def test_withdrawing_email_stops_queued_emails_and_leaves_texts(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await book_and_pay(consumer, clinic, providers, days_ahead=2)
    await choose(consumer, "service.email", False)
    await providers.run_jobs()
    assert providers.mails() == []
    assert ("email", "payment_confirmed", "skipped") in await sent(rt, clinic)
    assert len([m for m in providers.twilio.messages if m.to == CONSUMER_PHONE]) == 1


@pytest.mark.promise("P35")
async def test_withdrawn_intake_sharing_shuts_the_professional_out_from_then_on(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book(consumer, clinic, days_ahead=2)
    await answer_intake(consumer, appointment_id, share=True)
    pro = await signed_in(app, clinic, clinic.professional.username)
    answers_page = f"/workspace/appointments/{appointment_id}/intake"
    assert "Trouble sleeping" in (await pro.get(answers_page)).text  # shared: read once

    page = (await consumer.get(PAGE)).text
    label = "Sharing your intake answers: Alpha.Pro Example"
    assert state_of(page, label) == "Given"
    scope = str(clinic.professional_id)
    withdrawn = await choose(consumer, "intake_sharing.professional", False, scope)
    assert withdrawn.status_code == 303
    assert state_of((await consumer.get(PAGE)).text, label) == "Not given"

    read = await pro.get(answers_page)
    assert "did not agree to share the answers with you" in read.text
    assert "Trouble sleeping" not in read.text
    reads = [e for e in await events(rt, clinic) if e.operation == "view_intake_answers"]
    assert len(reads) == 1  # the reading before the withdrawal stays; none after


async def test_an_unknown_consent_or_professional_is_not_found_and_changes_nothing(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    before = await events(rt, clinic)
    assert (await choose(consumer, "marketing.pigeon", True)).status_code == 404
    stranger = str(uuid.uuid4())
    assert (
        await choose(consumer, "intake_sharing.professional", True, stranger)
    ).status_code == 404
    assert (await choose(consumer, "intake_sharing.professional", True, "x")).status_code == 404
    assert await events(rt, clinic) == before


async def test_the_page_is_for_signed_in_consumers(app: Any, clinic: Clinic) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert (await admin.get(PAGE)).status_code == 403
    anonymous = client_for(app, clinic.host)
    found = await anonymous.get(PAGE)
    assert found.status_code == 303 and found.headers["location"].startswith("/login")


# --- the same through /api/v1 ------------------------------------------------------------------


@pytest.mark.promise("P35")
async def test_the_api_lists_and_changes_my_consents(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = client_for(app, clinic.host)
    headers = await api_login(client, clinic.consumer.username)
    listed = (await client.get("/api/v1/me/consents")).json()["data"]
    by_key = {c["consent"]: c for c in listed}
    assert by_key["service.sms"]["given"] is True and by_key["service.sms"]["since"] is None
    assert by_key["marketing.email"]["given"] is False

    changed = await client.post(
        "/api/v1/me/consents", json={"consent": "service.sms", "give": False}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    after = {c["consent"]: c for c in changed.json()["data"]}
    assert after["service.sms"]["given"] is False and after["service.sms"]["method"] == "portal"
    assert after["service.sms"]["acted_by"] is None  # I did it myself
    assert after["marketing.sms"]["given"] is False

    unknown = await client.post(
        "/api/v1/me/consents", json={"consent": "pigeon.post", "give": True}, headers=headers
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    no_token = await client.post(
        "/api/v1/me/consents", json={"consent": "service.sms", "give": True}
    )
    assert no_token.status_code in (400, 403)
    state = (await client.get("/api/v1/me/consents")).json()["data"]
    assert {c["consent"]: c["given"] for c in state}["service.sms"] is False

    # Withdrawn through the API, it counts for a message already queued.
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await book_and_pay(consumer, clinic, providers, days_ahead=2)
    await providers.run_jobs()
    assert [m for m in providers.twilio.messages if m.to == CONSUMER_PHONE] == []


# --- staff, on a consumer's written request ----------------------------------------------------


@pytest.mark.promise("P35")
async def test_staff_change_a_consent_on_a_written_request_recorded_as_such(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    unknown = await admin.get("/admin/consents?consumer=nobody")
    assert unknown.status_code == 422
    assert "No consumer of this clinic has this username." in unknown.text
    found = await admin.get(f"/admin/consents?consumer={clinic.consumer.username}")
    theirs = f"/admin/consents/{clinic.consumer.id}"
    assert found.status_code == 303 and found.headers["location"] == theirs
    assert state_of((await admin.get(theirs)).text, "Appointment messages by email") == "Given"
    form = {"consent": "service.email", "give": "no"}
    changed = await post_form(admin, theirs, form)
    assert changed.status_code == 303

    consumer = await signed_in(app, clinic, clinic.consumer.username)
    mine = html.unescape((await consumer.get(PAGE)).text)
    assert state_of(mine, "Appointment messages by email") == "Not given"
    assert "by the clinic, on a written request, by Alpha.Admin Example on your behalf" in mine
    (change,) = [e for e in await events(rt, clinic) if e.kind == "consent"]
    assert (change.operation, change.subject_id, change.actor_id) == (
        "email_opt_out",
        clinic.consumer.id,
        clinic.admin.id,
    )
    # Only consumers' consents, and only clinic admins change them.
    assert (await admin.get(f"/admin/consents/{clinic.admin.id}")).status_code == 404
    assert (await consumer.get(theirs)).status_code == 403


@pytest.mark.promise("P34")
@pytest.mark.promise("P17")
async def test_objecting_to_direct_marketing_stops_every_channel_at_once(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    for channel in ("marketing.sms", "marketing.email"):
        await choose(consumer, channel, True)
    page = (await consumer.get(PAGE)).text
    assert "Stop all marketing" in page
    objected = await post_form(consumer, "/account/privacy/object", {}, page=PAGE)
    assert objected.status_code == 303
    async with rt.database.reading(clinic.tenant.id) as db:
        for kind in MARKETING.values():
            assert not await consents.allows(db, kind, consents.Whose(clinic.consumer.id))
        assert await consents.allows(db, SERVICE_EMAIL, consents.Whose(clinic.consumer.id))
    admin = await signed_in(app, clinic, clinic.admin.username)
    campaigns = (await admin.get("/admin/campaigns")).text
    assert "Email: 0 people opted in" in campaigns and "(SMS): 0 people opted in" in campaigns
