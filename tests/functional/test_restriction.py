"""Restriction of processing from the portal (P34): the record is kept and nothing new is done
with it: no booking, no message (a job queued before is checked again when it runs), no new
provider call, and the change is in the ledger."""

from __future__ import annotations

from typing import Any

import pytest

from praxis.core.accounts.restriction import restricted_ids
from praxis.core.notifications.services import EMAIL_TOPIC, SMS_TOPIC
from praxis.core.runtime import Runtime
from praxis.core.video.services import CREATE_TOPIC
from tests.conftest import client_for
from tests.functional.flows import CONSUMER_PHONE, book, events, free_slot, jobs, pay, signed_in
from tests.provider_fixtures import Providers
from tests.support import Clinic, api_login, booking_form, post_form


@pytest.mark.promise("P34")
async def test_a_restricted_record_gets_no_booking_message_or_provider_call_until_lifted(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    paid = await book(consumer, clinic, days_ahead=3)  # video: a room, a text and an email follow
    await pay(consumer, providers, paid)
    texts_before, mails_before = len(providers.twilio.messages), len(providers.mails())

    page = await consumer.get("/account/restrict")
    assert page.status_code == 200 and "Restrict processing of my data</button>" in page.text
    restricted = await post_form(consumer, "/account/restrict", {"action": "restrict"})
    assert restricted.status_code == 303
    assert "Lift the restriction</button>" in (await consumer.get("/account/restrict")).text
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await restricted_ids(db) == {clinic.consumer.id}

    # The jobs queued at payment run now: each checks again, and sends nothing.
    queued = {j.topic for j in await jobs(rt, clinic) if j.status == "pending"}
    assert {SMS_TOPIC, EMAIL_TOPIC, CREATE_TOPIC} <= queued
    await providers.run_jobs()
    assert [m for m in providers.twilio.messages[texts_before:] if m.to == CONSUMER_PHONE] == []
    assert len(providers.mails()) == mails_before
    assert providers.whereby.meetings == {}

    # Nothing new: the portal and the API refuse a booking, saying why.
    start = await free_slot(consumer, clinic, days_ahead=4)
    refused = await post_form(
        consumer, "/appointments", booking_form(clinic, start), page="/appointments"
    )
    assert refused.status_code == 403 and "Lift the" in refused.text
    api_client = client_for(app, clinic.host)
    headers = await api_login(api_client, clinic.consumer.username)
    api = await api_client.post(
        "/api/v1/appointments", json=booking_form(clinic, start), headers=headers
    )
    assert api.status_code == 403 and api.json()["error"]["code"] == "not_allowed"

    lifted = await post_form(consumer, "/account/restrict", {"action": "lift"})
    assert lifted.status_code == 303
    await book(consumer, clinic, "Long", days_ahead=5)  # booking works again
    changes = [e.operation for e in await events(rt, clinic) if e.subject_id == clinic.consumer.id]
    assert "restriction" in changes and "restriction_lifted" in changes


async def test_restricting_twice_is_one_change(app: Any, rt: Runtime, clinic: Clinic) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    for _ in range(2):
        await post_form(consumer, "/account/restrict", {"action": "restrict"})
    changes = [e.operation for e in await events(rt, clinic) if e.operation == "restriction"]
    assert changes == ["restriction"]


@pytest.mark.promise("P34")
async def test_the_api_restricts_and_lifts(client: Any, rt: Runtime, clinic: Clinic) -> None:
    headers = await api_login(client, clinic.consumer.username)
    on = await client.post("/api/v1/me/restriction", json={"restricted": True}, headers=headers)
    assert on.status_code == 200 and on.json() == {"restricted": True}
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await restricted_ids(db) == {clinic.consumer.id}
    off = await client.post("/api/v1/me/restriction", json={"restricted": False}, headers=headers)
    assert off.status_code == 200 and off.json() == {"restricted": False}
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await restricted_ids(db) == set()
    bad = await client.post("/api/v1/me/restriction", json={"restricted": "maybe"}, headers=headers)
    assert bad.status_code == 422 and "restricted" in bad.json()["error"]["fields"]
