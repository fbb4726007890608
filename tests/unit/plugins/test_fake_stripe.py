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
from praxis.core.sandbox.stripe import FakeStripe, decode_form, mask

API_KEY = "sk_test_platform0000000000000000042"
SECRET = "whsec_fake_tests"


@pytest.fixture
def fake() -> FakeStripe:
    fake = FakeStripe(api_keys=[API_KEY])
    fake.add_webhook_endpoint("https://platform.example/hook", SECRET)
    return fake


@pytest.fixture
async def api(fake: FakeStripe) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fake.app)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://stripe.test", headers=headers
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
        headers={"Authorization": f"Bearer {API_KEY}"},
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
