"""The fake Stripe keeps the contract: the errors, scoping and idempotency the SDK relies on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from praxis.core.sandbox import harness
from praxis.core.sandbox.stripe import API_VERSION, FakeStripe, decode_form, mask

API_KEY = "sk_test_platform0000000000000000042"
SECRET = "whsec_fake_tests"
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Stripe-Version": API_VERSION}


@pytest.fixture
def fake() -> FakeStripe:
    fake = FakeStripe(api_keys=[API_KEY])
    fake.add_webhook_endpoint("https://platform.example/hook", SECRET)
    return fake


@pytest.fixture
async def api(fake: FakeStripe) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://stripe.test", headers=HEADERS
    ) as client:
        yield client


def session_form(**changes: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "mode": "payment",
        "success_url": "https://clinic.example/paid",
        "cancel_url": "https://clinic.example/cancelled",
        "line_items[0][price_data][currency]": "gbp",
        "line_items[0][price_data][unit_amount]": "4500",
        "line_items[0][price_data][product_data][name]": "Consultation",
        "line_items[0][quantity]": "1",
        "client_reference_id": "appt-1",
        **changes,
    }
    return {k: v for k, v in form.items() if v is not None}


async def new_session(api: httpx.AsyncClient, account: str, **changes: str | None) -> Any:
    response = await api.post(
        "/v1/checkout/sessions", data=session_form(**changes), headers={"Stripe-Account": account}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_bracket_notation_decodes_to_nested_hashes_and_arrays() -> None:
    pairs = [
        ("line_items[0][price_data][currency]", "gbp"),
        ("line_items[1][quantity]", "2"),
        ("metadata[reference]", "appt-1"),
        ("expand[]", "payment_intent"),
        ("expand[]", "customer"),
    ]
    assert decode_form(pairs) == {
        "line_items": [{"price_data": {"currency": "gbp"}}, {"quantity": "2"}],
        "metadata": {"reference": "appt-1"},
        "expand": ["payment_intent", "customer"],
    }


def test_keys_are_masked_as_stripe_masks_them() -> None:
    assert mask("sk_test_abcdefgh1234") == "sk_test_********1234"


@pytest.mark.parametrize(
    ("changes", "status", "code", "param"),
    [
        ({"success_url": None}, 400, "parameter_missing", "success_url"),
        ({"line_items[0][price_data][product_data][name]": None}, 400, "parameter_missing",
         "line_items[0][price_data][product_data][name]"),
        ({"line_items[0][price_data][unit_amount]": "45.00"}, 400, "parameter_invalid_integer",
         "line_items[0][price_data][unit_amount]"),
        ({"line_items[0][quantity]": None}, 400, "parameter_missing", "line_items[0][quantity]"),
        ({"cancel_url": "not a url"}, 400, "url_invalid", "cancel_url"),
        ({"payment_intent_data[application_fe]": "1"}, 400, "parameter_unknown",
         "payment_intent_data[application_fe]"),
        ({"customer_email": "nobody"}, 400, "email_invalid", "customer_email"),
    ],
)  # fmt: skip
async def test_a_malformed_session_is_refused_in_stripes_shape(
    fake: FakeStripe,
    api: httpx.AsyncClient,
    changes: dict[str, str | None],
    status: int,
    code: str,
    param: str,
) -> None:
    account = fake.add_account()
    response = await api.post(
        "/v1/checkout/sessions", data=session_form(**changes), headers={"Stripe-Account": account}
    )
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)
    assert error["message"]
    assert response.headers["request-id"].startswith("req_")
    assert fake.sessions == {}


async def test_an_application_fee_needs_a_connected_account(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    form = session_form(**{"payment_intent_data[application_fee_amount]": "100"})
    response = await api.post("/v1/checkout/sessions", data=form)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "payment_intent_data[application_fee_amount]"
    await new_session(
        api, fake.add_account(), **{"payment_intent_data[application_fee_amount]": "100"}
    )


async def test_an_account_not_onboarded_cannot_take_payments(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    account = fake.add_account(ready=False)
    response = await api.post(
        "/v1/checkout/sessions", data=session_form(), headers={"Stripe-Account": account}
    )
    assert response.status_code == 400
    fake.complete_onboarding(account)
    await new_session(api, account)


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "You did not provide an API key"),
        ("Bearer sk_test_wrongwrongwrong9876", "Invalid API Key provided: sk_test_***"),
    ],
)
async def test_bad_credentials_get_401(
    fake: FakeStripe, api: httpx.AsyncClient, authorization: str | None, message: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    api.headers.pop("Authorization")
    response = await api.post("/v1/accounts", data={"type": "standard"}, headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(message)
    assert "wrongwrong" not in error["message"]
    assert fake.accounts == {}


async def test_basic_auth_works_as_with_curl(fake: FakeStripe, api: httpx.AsyncClient) -> None:
    api.headers.pop("Authorization")
    response = await api.post("/v1/accounts", data={"type": "standard"}, auth=(API_KEY, ""))
    assert response.status_code == 200
    assert response.json()["id"] in fake.accounts


async def test_an_unknown_connected_account_is_refused(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    response = await api.get(
        "/v1/checkout/sessions/cs_test_x", headers={"Stripe-Account": "acct_x"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_invalid"


async def test_objects_live_on_their_connected_account(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    mine, theirs = fake.add_account(), fake.add_account()
    session = await new_session(api, mine)
    assert session["object"] == "checkout.session"
    assert (session["livemode"], session["status"], session["payment_status"]) == (
        False,
        "open",
        "unpaid",
    )
    path = f"/v1/checkout/sessions/{session['id']}"
    assert (await api.get(path, headers={"Stripe-Account": mine})).json()["id"] == session["id"]
    for headers in ({"Stripe-Account": theirs}, {}):
        response = await api.get(path, headers=headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "resource_missing"


async def test_an_idempotent_request_is_replayed_once_and_guarded(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    headers = {"Idempotency-Key": "account-1"}
    first = await api.post("/v1/accounts", data={"type": "standard"}, headers=headers)
    again = await api.post("/v1/accounts", data={"type": "standard"}, headers=headers)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(fake.accounts) == 1
    other = await api.post("/v1/accounts", data={"type": "express"}, headers=headers)
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"


async def test_a_refund_cannot_exceed_what_is_left(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    account = fake.add_account()
    intent = fake.pay((await new_session(api, account))["id"])["payment_intent"]
    on_account = {"Stripe-Account": account}
    form = {"payment_intent": intent, "amount": "4000"}
    refund = await api.post("/v1/refunds", data=form, headers=on_account)
    assert refund.json()["object"] == "refund" and refund.json()["id"].startswith("re_")
    too_much = await api.post("/v1/refunds", data=form, headers=on_account)
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "amount_too_large"
    rest = await api.post("/v1/refunds", data={"payment_intent": intent}, headers=on_account)
    assert rest.json()["amount"] == 500
    done = await api.post("/v1/refunds", data={"payment_intent": intent}, headers=on_account)
    assert done.json()["error"]["code"] == "charge_already_refunded"


async def test_faults_come_in_stripes_shape(fake: FakeStripe, api: httpx.AsyncClient) -> None:
    fake.faults.fail_next(status=503)
    fake.faults.throttle_next(retry_after=3)
    failed = await api.get("/v1/events/evt_1")
    throttled = await api.get("/v1/events/evt_1")
    assert (failed.status_code, failed.json()["error"]["type"]) == (503, "api_error")
    assert (throttled.status_code, throttled.json()["error"]["type"]) == (429, "rate_limit_error")
    assert throttled.headers["retry-after"] == "3"
    assert fake.faults.calls == 2


async def test_an_unknown_url_is_unrecognized(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/charges")
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith("Unrecognized request URL")


async def test_connect_events_are_signed_and_retrievable(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    account = fake.add_account(ready=False)
    fake.complete_onboarding(account)
    [delivery] = fake.webhooks.deliveries
    event = json.loads(delivery.body)
    assert (event["type"], event["account"], event["object"]) == (
        "account.updated",
        account,
        "event",
    )
    assert event["data"]["previous_attributes"] == {
        "charges_enabled": False,
        "details_submitted": False,
    }
    t = delivery.headers["Stripe-Signature"].split(",")[0].removeprefix("t=")
    assert delivery.headers["Stripe-Signature"] == FakeStripe.sign(delivery.body, SECRET, int(t))
    retrieved = await api.get(f"/v1/events/{event['id']}", headers={"Stripe-Account": account})
    assert retrieved.json() == event
    assert (await api.get(f"/v1/events/{event['id']}")).status_code == 404


async def test_the_hosted_pages_work_under_a_mount_prefix(fake: FakeStripe) -> None:
    host = Starlette(routes=[Mount("/-/sandbox/stripe", app=fake.app)])
    transport = httpx.ASGITransport(app=host)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://clinic.localhost:8000",
        headers=HEADERS,
    ) as browser:
        account = fake.add_account()
        session = await browser.post(
            "/-/sandbox/stripe/v1/checkout/sessions",
            data=session_form(success_url="https://clinic.example/paid/{CHECKOUT_SESSION_ID}"),
            headers={"Stripe-Account": account},
        )
        url = session.json()["url"]
        assert url.startswith("http://clinic.localhost:8000/-/sandbox/stripe/checkout/cs_test_")
        page = await browser.get(url)
        assert "GBP 45.00" in page.text and "Sandbox: no real money" in page.text
        assert f'action="/-/sandbox/stripe/checkout/{session.json()["id"]}/pay"' in page.text
        paid = await browser.post(f"{url}/pay")
    assert paid.headers["location"] == f"https://clinic.example/paid/{session.json()['id']}"
    assert fake.sessions[session.json()["id"]]["payment_status"] == "paid"
    assert fake.requests[0].path == "/v1/checkout/sessions"


async def test_the_cancel_and_expire_buttons(fake: FakeStripe, api: httpx.AsyncClient) -> None:
    session = await new_session(api, fake.add_account())
    page = f"/checkout/{session['id']}"
    cancelled = await api.post(f"{page}/cancel")
    assert cancelled.headers["location"] == "https://clinic.example/cancelled"
    assert fake.sessions[session["id"]]["status"] == "open"
    expired = await api.post(f"{page}/expire")
    assert expired.headers["location"] == page
    assert fake.sessions[session["id"]]["status"] == "expired"
    assert "has expired" in (await api.get(page)).text
    assert (await api.post(f"{page}/pay")).status_code == 303
    assert fake.sessions[session["id"]]["payment_status"] == "unpaid"


async def test_push_delivers_signed_events_over_http() -> None:
    arrived: list[tuple[dict[str, str], bytes]] = []

    async def receive(request: Request) -> Response:
        arrived.append((dict(request.headers), await request.body()))
        return Response(status_code=200)

    receiver = Starlette(routes=[Route("/hook", receive, methods=["POST"])])
    with harness.serve(receiver) as url:
        fake = FakeStripe(push=True)
        fake.add_webhook_endpoint(f"{url}/hook", SECRET)
        fake.complete_onboarding(fake.add_account(ready=False))
        fake.drain()
    [(headers, body)] = arrived
    assert json.loads(body)["type"] == "account.updated"
    t = int(headers["stripe-signature"].split(",")[0].removeprefix("t="))
    assert headers["stripe-signature"] == FakeStripe.sign(body, SECRET, t)
    assert [d.status for d in fake.webhooks.deliveries] == [200]


# --- the API version ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "", "2020-08-27", "2025-03-31.basil", "latest"])
async def test_a_request_must_name_the_api_version_the_fake_implements(
    fake: FakeStripe, api: httpx.AsyncClient, version: str | None
) -> None:
    api.headers.pop("Stripe-Version")
    headers = {} if version is None else {"Stripe-Version": version}
    response = await api.post("/v1/accounts", data={"type": "standard"}, headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "code" not in error and "param" not in error  # as Stripe answers a bad version
    assert error["message"].startswith("Invalid Stripe API version: ")
    if version:
        assert error["message"] == f"Invalid Stripe API version: {version}"
    assert fake.accounts == {}
    implemented = await api.post(
        "/v1/accounts", data={"type": "standard"}, headers={"Stripe-Version": API_VERSION}
    )
    assert implemented.status_code == 200


async def test_events_carry_the_api_version(fake: FakeStripe) -> None:
    fake.complete_onboarding(fake.add_account(ready=False))
    [delivery] = fake.webhooks.deliveries
    assert json.loads(delivery.body)["api_version"] == API_VERSION


# --- a checkout session's expiry ----------------------------------------------------------------

FROZEN = 1_800_000_000  # the fake's clock stands still here, so "created" is known exactly

TOO_SOON = "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."
TOO_LATE = "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation."


@pytest.mark.parametrize(
    ("after", "refusal"),
    [
        (30 * 60 - 1, TOO_SOON),
        (-60, TOO_SOON),
        (30 * 60, None),
        (24 * 3600, None),
        (24 * 3600 + 1, TOO_LATE),
    ],
)
async def test_an_expiry_outside_30_minutes_to_24_hours_is_refused_as_stripe_does(
    fake: FakeStripe, api: httpx.AsyncClient, after: int, refusal: str | None
) -> None:
    fake.clock = lambda: FROZEN
    account = fake.add_account()
    response = await api.post(
        "/v1/checkout/sessions",
        data=session_form(expires_at=str(FROZEN + after)),
        headers={"Stripe-Account": account},
    )
    if refusal is None:
        assert response.status_code == 200, response.text
        assert response.json()["created"] == FROZEN
        assert response.json()["expires_at"] == FROZEN + after
        return
    assert response.status_code == 400
    assert response.json() == {
        "error": {"type": "invalid_request_error", "message": refusal, "param": "expires_at"}
    }
    assert fake.sessions == {}


async def test_the_expiry_is_measured_from_stripes_clock_not_the_callers(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    fake.clock = lambda: FROZEN
    account = fake.add_account()
    asked = str(FROZEN + 30 * 60)  # exactly the shortest, by a clock 2 seconds behind Stripe's
    fake.advance(2)
    response = await api.post(
        "/v1/checkout/sessions",
        data=session_form(expires_at=asked),
        headers={"Stripe-Account": account},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == TOO_SOON


# --- idempotency is remembered for 24 hours -------------------------------------------------------


async def test_an_idempotency_key_is_forgotten_after_24_hours(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    fake.clock = lambda: FROZEN
    headers = {"Idempotency-Key": "account-1"}
    first = await api.post("/v1/accounts", data={"type": "standard"}, headers=headers)
    fake.advance(24 * 3600 - 1)
    within = await api.post("/v1/accounts", data={"type": "standard"}, headers=headers)
    assert within.headers["idempotent-replayed"] == "true"
    assert within.json()["id"] == first.json()["id"]
    fake.advance(1)
    after = await api.post("/v1/accounts", data={"type": "standard"}, headers=headers)
    assert "idempotent-replayed" not in after.headers
    assert after.json()["id"] != first.json()["id"]
    assert len(fake.accounts) == 2  # the same key made a second account: Stripe had forgotten it
    assert after.json()["created"] - first.json()["created"] == 24 * 3600


# --- listing refunds ------------------------------------------------------------------------------


async def refunded(
    fake: FakeStripe, api: httpx.AsyncClient, account: str, amounts: list[int]
) -> tuple[str, list[dict[str, Any]]]:
    """A paid checkout on ``account`` and one refund per amount, oldest first."""
    intent = fake.pay((await new_session(api, account))["id"])["payment_intent"]
    made = []
    for number, amount in enumerate(amounts):
        form = {"payment_intent": intent, "amount": str(amount), "metadata[n]": str(number)}
        response = await api.post("/v1/refunds", data=form, headers={"Stripe-Account": account})
        assert response.status_code == 200, response.text
        made.append(response.json())
        fake.advance(1)
    return intent, made


async def test_refunds_are_listed_newest_first_per_payment_and_account(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    mine, theirs = fake.add_account(), fake.add_account()
    intent, made = await refunded(fake, api, mine, [100, 200, 300])
    other_intent, _ = await refunded(fake, api, mine, [50])
    await refunded(fake, api, theirs, [70])
    on_mine = {"Stripe-Account": mine}

    listed = await api.get("/v1/refunds", params={"payment_intent": intent}, headers=on_mine)
    assert listed.status_code == 200
    body = listed.json()
    assert (body["object"], body["url"], body["has_more"]) == ("list", "/v1/refunds", False)
    assert [r["id"] for r in body["data"]] == [r["id"] for r in reversed(made)]
    assert body["data"][0] == made[-1]  # the whole refund, metadata included

    everything = (await api.get("/v1/refunds", headers=on_mine)).json()["data"]
    assert len(everything) == 4  # both payments on my account, none of theirs
    assert {r["payment_intent"] for r in everything} == {intent, other_intent}
    by_charge = await api.get("/v1/refunds", params={"charge": made[0]["charge"]}, headers=on_mine)
    assert [r["id"] for r in by_charge.json()["data"]] == [r["id"] for r in reversed(made)]
    since = await api.get(
        "/v1/refunds",
        params={"payment_intent": intent, "created[gte]": str(made[1]["created"])},
        headers=on_mine,
    )
    assert [r["id"] for r in since.json()["data"]] == [made[2]["id"], made[1]["id"]]


async def test_refunds_are_paged_with_limit_and_cursors(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    account = fake.add_account()
    intent, made = await refunded(fake, api, account, [100, 200, 300])
    newest_first = [r["id"] for r in reversed(made)]
    on_account = {"Stripe-Account": account}
    query = {"payment_intent": intent, "limit": "2"}

    first = (await api.get("/v1/refunds", params=query, headers=on_account)).json()
    assert [r["id"] for r in first["data"]] == newest_first[:2] and first["has_more"] is True
    rest = await api.get(
        "/v1/refunds", params={**query, "starting_after": newest_first[1]}, headers=on_account
    )
    assert [r["id"] for r in rest.json()["data"]] == newest_first[2:]
    assert rest.json()["has_more"] is False
    back = await api.get(
        "/v1/refunds", params={**query, "ending_before": newest_first[2]}, headers=on_account
    )
    assert [r["id"] for r in back.json()["data"]] == newest_first[:2]


@pytest.mark.parametrize(
    ("query", "status", "code", "param"),
    [
        ({"payment_intent": "pi_unknown"}, 400, "resource_missing", "payment_intent"),
        ({"limit": "101"}, 400, "parameter_invalid_integer", "limit"),
        ({"limit": "0"}, 400, "parameter_invalid_integer", "limit"),
        ({"starting_after": "re_unknown"}, 400, "resource_missing", "starting_after"),
        ({"created[after]": "1"}, 400, "parameter_unknown", "created[after]"),
        ({"refund": "re_1"}, 400, "parameter_unknown", "refund"),
    ],
)
async def test_a_bad_refund_listing_is_refused_in_stripes_shape(
    fake: FakeStripe,
    api: httpx.AsyncClient,
    query: dict[str, str],
    status: int,
    code: str,
    param: str,
) -> None:
    account = fake.add_account()
    response = await api.get("/v1/refunds", params=query, headers={"Stripe-Account": account})
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)


async def test_another_accounts_payment_has_no_refunds_to_list(
    fake: FakeStripe, api: httpx.AsyncClient
) -> None:
    mine, theirs = fake.add_account(), fake.add_account()
    intent, _ = await refunded(fake, api, mine, [100])
    response = await api.get(
        "/v1/refunds", params={"payment_intent": intent}, headers={"Stripe-Account": theirs}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "resource_missing"
