"""The fakes' objects carry every field the providers' official descriptions list.

Code that starts reading a field Stripe, Twilio or Whereby send must meet it in the sandbox
first, not in production: each object the fakes serve through their APIs is compared, key by
key, with the contract (``../shared/contracts`` beside the repository, as PROMISES.md is):
Stripe's objects with stripe-objects.fixtures.json (nested objects too), Twilio's Message with
the ``api.v2010.account.message`` schema, Whereby's Meeting with its ``Meeting`` schema.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from praxis.core.sandbox.stripe import API_VERSION, FakeStripe
from praxis.core.sandbox.twilio import FakeTwilio
from praxis.core.sandbox.whereby import FakeWhereby

CONTRACTS = Path(__file__).resolve().parents[3].parent / "shared" / "contracts"

STRIPE_KEY = "sk_test_contracts00000000000000042"
TWILIO_SID = "AC" + "c" * 32
TWILIO_TOKEN = "t" * 32
CLINIC_NUMBER = "+447700900123"
WHEREBY_KEY = "whereby-contracts-key"

# Maps of the caller's own keys, and hashes whose keys depend on the object: not compared.
FREE_FORM = frozenset({"metadata", "previous_attributes"})
# Fields Stripe sends that the fixture (a platform event) does not show: a Connect event names
# the connected account it comes from.
EXTRA: dict[str, set[str]] = {"event": {"account"}}


def contract(name: str) -> Any:
    path = CONTRACTS / name
    if not path.exists():
        pytest.fail(f"the official description {path} is missing: the contracts live in ../shared")
    return json.loads(path.read_text(encoding="utf-8"))


def shape_problems(kind: str, fake: Any, official: Any, where: str = "") -> list[str]:
    """Where the fake's object differs from the fixture in its keys, at any depth.

    Nested hashes are compared when both sides have one; ``null`` where the fixture shows a
    hash (not set in this case), an id where it shows the expanded object, and lists are not
    differences. Event payloads are compared with the fixture of their own object."""
    if not isinstance(fake, dict) or not isinstance(official, dict):
        return []
    problems = []
    missing, unknown = set(official) - set(fake), set(fake) - set(official)
    if not where:
        unknown -= EXTRA.get(kind, set())
    if missing:
        problems.append(f"{kind}{where}: missing {sorted(missing)}")
    if unknown:
        problems.append(f"{kind}{where}: not in the contract {sorted(unknown)}")
    for key in set(fake) & set(official):
        if key in FREE_FORM or not official[key]:
            continue  # an empty hash in the fixture is a free-form one
        if kind == "event" and not where and key == "data":
            problems += event_payload_problems(fake["data"])
            continue
        problems += shape_problems(kind, fake[key], official[key], f"{where}.{key}")
    return problems


def event_payload_problems(data: dict[str, Any]) -> list[str]:
    """An event's ``data``: the object it is about, and what changed (``*.updated``)."""
    resources = contract("stripe-objects.fixtures.json")["resources"]
    problems = []
    if unknown := set(data) - {"object", "previous_attributes"}:
        problems.append(f"event.data: not in the contract {sorted(unknown)}")
    kind = data["object"].get("object")
    if kind not in resources:
        return [*problems, f"event.data.object: a {kind} the fixtures do not describe"]
    return problems + shape_problems(kind, data["object"], resources[kind])


def assert_shaped(kind: str, fake: dict[str, Any]) -> None:
    official = contract("stripe-objects.fixtures.json")["resources"][kind]
    assert fake.get("object") == kind
    assert shape_problems(kind, fake, official) == []


# --- Stripe -------------------------------------------------------------------------------------


@pytest.fixture
def stripe_fake() -> FakeStripe:
    fake = FakeStripe(api_keys=[STRIPE_KEY])
    fake.add_webhook_endpoint("https://platform.example/hook", "whsec_contracts")
    return fake


@pytest.fixture
async def stripe_api(stripe_fake: FakeStripe) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stripe_fake.app),
        base_url="http://stripe.test",
        headers={"Authorization": f"Bearer {STRIPE_KEY}", "Stripe-Version": API_VERSION},
    ) as client:
        yield client


def test_the_shape_check_finds_a_missing_and_an_unknown_field() -> None:
    official = {"id": "x", "outcome": {"type": "t", "reason": None}, "metadata": {}}
    fake = {"id": "y", "outcome": {"type": "t"}, "metadata": {"mine": "1"}, "extra": 1}
    assert shape_problems("charge", fake, official) == [
        "charge: not in the contract ['extra']",
        "charge.outcome: missing ['reason']",
    ]


async def stripe_objects(fake: FakeStripe, api: httpx.AsyncClient) -> dict[str, list[Any]]:
    """Every kind of object the fake serves, in each state the platform meets it in."""

    async def ok(response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return response.json()

    found: dict[str, list[Any]] = {}
    created = await ok(await api.post("/v1/accounts", data={"type": "standard", "country": "GB"}))
    account = created["id"]
    fake.complete_onboarding(account)
    on_account = {"Stripe-Account": account}
    found["account"] = [created, await ok(await api.get(f"/v1/accounts/{account}"))]
    link = {"account": account, "type": "account_onboarding"}
    found["account_link"] = [await ok(await api.post("/v1/account_links", data=link))]

    form = {
        "mode": "payment",
        "success_url": "https://clinic.example/paid",
        "cancel_url": "https://clinic.example/cancelled",
        "line_items[0][price_data][currency]": "gbp",
        "line_items[0][price_data][unit_amount]": "4500",
        "line_items[0][price_data][product_data][name]": "Consultation",
        "line_items[0][quantity]": "1",
        "customer_email": "ada@example.org",
        "payment_intent_data[application_fee_amount]": "100",
    }
    sessions = [
        await ok(await api.post("/v1/checkout/sessions", data=form, headers=on_account))
        for _ in range(3)
    ]
    fake.pay(sessions[0]["id"])
    fake.pay(sessions[1]["id"], delayed=True)
    await ok(
        await api.post(f"/v1/checkout/sessions/{sessions[2]['id']}/expire", headers=on_account)
    )
    found["checkout.session"] = [sessions[0]] + [
        await ok(await api.get(f"/v1/checkout/sessions/{s['id']}", headers=on_account))
        for s in sessions
    ]
    intent = fake.sessions[sessions[0]["id"]]["payment_intent"]
    refund = {"payment_intent": intent, "amount": "1000", "metadata[key]": "k"}
    found["refund"] = [await ok(await api.post("/v1/refunds", data=refund, headers=on_account))]
    listed = await api.get("/v1/refunds", params={"payment_intent": intent}, headers=on_account)
    found["refund"] += (await ok(listed))["data"]
    found["payment_intent"] = list(fake.payment_intents.values())
    found["charge"] = list(fake.charges.values())
    found["event"] = [
        await ok(await api.get(f"/v1/events/{event_id}", headers=on_account))
        for event_id in fake.events
    ]
    return found


async def test_stripes_objects_carry_every_field_the_fixtures_list(
    stripe_fake: FakeStripe, stripe_api: httpx.AsyncClient
) -> None:
    found = await stripe_objects(stripe_fake, stripe_api)
    resources = contract("stripe-objects.fixtures.json")["resources"]
    served = set(found) - {"application_fee"}
    assert served == set(resources) - {"application_fee"}  # each kind the fake makes
    for kind, items in found.items():
        assert items, kind
        for item in items:
            assert_shaped(kind, item)
    kinds = {event["type"] for event in found["event"]}
    assert {"checkout.session.completed", "refund.created", "charge.refunded"} <= kinds


async def test_stripe_events_as_delivered_have_the_fixtures_shape(
    stripe_fake: FakeStripe, stripe_api: httpx.AsyncClient
) -> None:
    await stripe_objects(stripe_fake, stripe_api)
    assert stripe_fake.webhooks.deliveries
    for delivery in stripe_fake.webhooks.deliveries:
        assert_shaped("event", json.loads(delivery.body))


# --- Twilio -------------------------------------------------------------------------------------


@pytest.fixture
def twilio_fake() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    fake.add_account(TWILIO_SID, TWILIO_TOKEN)
    fake.add_number(CLINIC_NUMBER, "https://platform.example/sms", account_sid=TWILIO_SID)
    yield fake


@pytest.fixture
async def twilio_api(twilio_fake: FakeTwilio) -> AsyncIterator[httpx.AsyncClient]:
    """The fake's Messages of one account; ``send`` makes one."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=twilio_fake.app),
        base_url=f"http://twilio.test/2010-04-01/Accounts/{TWILIO_SID}",
        auth=(TWILIO_SID, TWILIO_TOKEN),
    ) as api:
        yield api


async def send(api: httpx.AsyncClient) -> httpx.Response:
    form = {"To": "+447911123456", "From": CLINIC_NUMBER, "Body": "See you at 10:00"}
    sent = await api.post("/Messages.json", data=form)
    assert sent.status_code == 201, sent.text
    return sent


async def test_twilios_message_carries_every_field_of_the_contract(
    twilio_api: httpx.AsyncClient,
) -> None:
    spec = contract("twilio-messages.openapi.json")
    schemas = spec["components"]["schemas"]
    message_fields = set(schemas["api.v2010.account.message"]["properties"])
    listing = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages.json"]["get"]
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]
    sent = await send(twilio_api)
    fetched = await twilio_api.get(f"/Messages/{sent.json()['sid']}.json")
    listed = await twilio_api.get("/Messages.json")
    for message in (sent.json(), fetched.json(), *listed.json()["messages"]):
        assert set(message) == message_fields
    assert set(listed.json()) == set(page["properties"])


async def test_twilios_message_deletion_answers_as_the_contract_says(
    twilio_fake: FakeTwilio, twilio_api: httpx.AsyncClient
) -> None:
    spec = contract("twilio-messages.openapi.json")
    deletion = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"]["delete"]
    sent = await send(twilio_api)
    deleted = await twilio_api.delete(f"/Messages/{sent.json()['sid']}.json")
    assert set(deletion["responses"]) == {"204"}  # the contract's only answer: no content
    assert str(deleted.status_code) in deletion["responses"] and deleted.content == b""
    assert twilio_fake.messages == []


# --- Whereby ------------------------------------------------------------------------------------


async def test_wherebys_meeting_carries_every_field_of_the_contract() -> None:
    fake = FakeWhereby()
    fake.add_api_key(WHEREBY_KEY)
    spec = contract("whereby-meetings.openapi.json")
    meeting = spec["components"]["schemas"]["Meeting"]
    on_request = {"hostRoomUrl", "viewerRoomUrl"}  # "only returned if requested through fields"
    listing = spec["paths"]["/meetings"]["get"]["responses"]["200"]["content"]
    page = listing["application/json"]["schema"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake.app),
        base_url="http://whereby.test",
        headers={"Authorization": f"Bearer {WHEREBY_KEY}"},
    ) as api:
        body = {"endDate": "2099-01-01T10:00:00Z", "fields": sorted(on_request)}
        every = await api.post("/v1/meetings", json=body)
        assert every.status_code == 201, every.text
        plain = await api.post("/v1/meetings", json={"endDate": "2099-01-01T10:00:00Z"})
        fetched = await api.get(f"/v1/meetings/{plain.json()['meetingId']}")
        listed = await api.get("/v1/meetings", params={"fields": "hostRoomUrl,viewerRoomUrl"})
    assert set(every.json()) == set(meeting["properties"])
    for item in (plain.json(), fetched.json()):
        assert set(item) == set(meeting["properties"]) - on_request
        assert set(meeting["required"]) <= set(item)
    assert set(listed.json()) == set(page["properties"])
    for item in listed.json()["results"]:
        assert set(item) == set(meeting["properties"])
