"""payments_stripe: the real Stripe SDK, over real sockets, against the contract-shaped fake."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from praxis.core.providers.common import (
    AnswerLost,
    PermanentFailure,
    ProviderContext,
    TemporaryFailure,
    WebhookRejected,
    WebhookReply,
    WebhookRequest,
)
from praxis.core.providers.payments import (
    AccountRequest,
    Checkout,
    CheckoutExpiry,
    CheckoutRequest,
    OnboardingRequest,
    PaymentsProvider,
    RefundRequest,
)
from praxis.core.sandbox import harness
from praxis.core.sandbox.harness import Delivery
from praxis.core.sandbox.stripe import API_VERSION, FakeStripe
from praxis.plugins import payments_stripe
from praxis.plugins.payments_stripe import STRIPE_API_VERSION, StripePayments, StripeSettings
from praxis.plugins.payments_stripe import errors as stripe_errors
from praxis.plugins.payments_stripe import provider as stripe_provider
from praxis.plugins.payments_stripe.provider import application_fee, checkout_expiry

API_KEY = "sk_test_platform0000000000000000042"
WEBHOOK_SECRET = "whsec_connect_endpoint_secret"
WEBHOOK_URL = "https://leafy.praxis.example/-/plugins/payments_stripe/webhook/"
PORTAL = "https://leafy.praxis.example"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeStripe, str]]:
    fake = FakeStripe(api_keys=[API_KEY])
    fake.add_webhook_endpoint(WEBHOOK_URL, WEBHOOK_SECRET)
    running = harness.start(fake.app)
    yield fake, running.url
    running.stop()


@pytest.fixture
def fake(served: tuple[FakeStripe, str]) -> FakeStripe:
    served[0].reset()
    return served[0]


@pytest.fixture
def fake_url(served: tuple[FakeStripe, str]) -> str:
    return served[1]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        yield client


def provider(base_url: str, http: httpx.AsyncClient, **settings: Any) -> StripePayments:
    values: dict[str, Any] = {
        "secret_key": API_KEY,
        "webhook_secret": WEBHOOK_SECRET,
        "api_base_url": base_url,
        **settings,
    }
    context = ProviderContext(
        settings=StripeSettings.model_validate(values),
        http=http,
        tenant_slug="leafy",
        tenant_name="Leafy Clinic",
        public_url=PORTAL,
        webhook_url=WEBHOOK_URL,
    )
    return StripePayments(context)


@pytest.fixture
def stripe_payments(fake: FakeStripe, fake_url: str, http: httpx.AsyncClient) -> StripePayments:
    return provider(fake_url, http)


def checkout_request(account_id: str, **changes: Any) -> CheckoutRequest:
    request = CheckoutRequest(
        idempotency_key="checkout-appt-1001",
        account_id=account_id,
        reference="appt-1001",
        description="Initial consultation, 50 minutes",
        amount_minor=4500,
        currency="GBP",
        customer_email="ada@example.org",
        success_url=f"{PORTAL}/appointments/appt-1001/paid",
        cancel_url=f"{PORTAL}/appointments/appt-1001",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    return replace(request, **changes)


def received(delivery: Delivery, **changes: Any) -> WebhookRequest:
    """A delivery as the platform's webhook endpoint hands it to the provider."""
    return replace(harness.webhook_request(delivery), **changes)


def delivered(fake: FakeStripe, kind: str) -> Delivery:
    """The one delivery of an event of ``kind``."""
    found = [d for d in fake.webhooks.deliveries if json.loads(d.body)["type"] == kind]
    assert len(found) == 1, [json.loads(d.body)["type"] for d in fake.webhooks.deliveries]
    return found[0]


def param_names(params: Any, prefix: str = "") -> list[str]:
    """Every parameter a request carried, in bracket notation."""
    if isinstance(params, dict):
        items: Any = params.items()
    elif isinstance(params, list):
        items = enumerate(params)
    else:
        return [prefix]
    names = []
    for key, value in items:
        names += param_names(value, f"{prefix}[{key}]" if prefix else str(key))
    return names


# --- registration and settings --------------------------------------------------------------


def test_the_plugin_registers_its_provider_class() -> None:
    factory = payments_stripe.praxis_register_providers()
    assert factory is StripePayments
    manifest = payments_stripe.praxis_manifest()
    assert manifest.settings_model is StripeSettings
    assert {use.operation for use in manifest.data} == {"create_checkout", "refund"}


async def test_the_provider_implements_the_payments_protocol(
    stripe_payments: StripePayments,
) -> None:
    assert isinstance(stripe_payments, PaymentsProvider)
    assert stripe_payments.webhook_reply == WebhookReply()


def test_every_setting_is_for_the_operator_only() -> None:
    properties = StripeSettings.model_json_schema()["properties"]
    assert set(properties) == {
        "secret_key",
        "webhook_secret",
        "api_base_url",
        "application_fee_percent",
        "connect_country",
    }
    assert all(p.get("praxis_operator_only") is True for p in properties.values())


@pytest.mark.parametrize("fee", ["-1", "50.01", "abc"])
def test_the_platform_fee_stays_between_0_and_50_percent(fee: str) -> None:
    with pytest.raises(ValidationError):
        StripeSettings.model_validate(
            {"secret_key": API_KEY, "webhook_secret": "x", "application_fee_percent": fee}
        )


@pytest.mark.parametrize(
    ("amount", "percent", "fee"),
    [(4500, "0", 0), (4500, "2.5", 113), (4500, "10", 450), (999, "1.5", 15), (1, "50", 1)],
)
def test_the_platform_fee_is_rounded_half_up(amount: int, percent: str, fee: int) -> None:
    assert application_fee(amount, Decimal(percent)) == fee


async def test_the_sdk_sends_through_the_platform_client_with_its_timeout() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        account = {"id": "acct_1", "charges_enabled": False, "details_submitted": False}
        return httpx.Response(200, json={"object": "account", **account})

    timeout = httpx.Timeout(1.5)
    transport = httpx.MockTransport(answer)
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as http:
        payments = provider("https://stripe.internal.example", http)
        await payments.create_account(AccountRequest(idempotency_key="k-1", country="GB"))
    [request] = seen
    assert str(request.url) == "https://stripe.internal.example/v1/accounts"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.extensions["timeout"] == timeout.as_dict()
    assert "x-stripe-client-telemetry" not in request.headers
    assert "platform" not in json.loads(request.headers["x-stripe-client-user-agent"])


# --- onboarding -------------------------------------------------------------------------------


async def test_onboarding_opens_an_account_and_its_completion_arrives_signed(
    fake: FakeStripe, stripe_payments: StripePayments, http: httpx.AsyncClient
) -> None:
    account = await stripe_payments.create_account(
        AccountRequest(idempotency_key="account-clinic-7", country="GB")
    )
    assert account.account_id.startswith("acct_")
    assert (account.charges_enabled, account.details_submitted) == (False, False)
    [call] = fake.requests_to("POST", "/v1/accounts")
    assert call.params == {"type": "standard", "country": "GB"}
    assert call.headers["idempotency-key"] == "account-clinic-7"

    link = await stripe_payments.onboarding_link(
        OnboardingRequest(
            account_id=account.account_id,
            return_url=f"{PORTAL}/settings/payments/done",
            refresh_url=f"{PORTAL}/settings/payments/again",
        )
    )
    assert link.url.endswith(f"/onboarding/{account.account_id}")
    assert datetime.now(UTC) < link.expires_at <= datetime.now(UTC) + timedelta(minutes=6)
    [call] = fake.requests_to("POST", "/v1/account_links")
    assert call.params["type"] == "account_onboarding"
    assert call.params["return_url"] == f"{PORTAL}/settings/payments/done"

    page = await http.get(link.url)
    assert page.status_code == 200
    assert "Sandbox: no real money" in page.text
    done = await http.post(f"{link.url}/complete")
    assert done.status_code == 303
    assert done.headers["location"] == f"{PORTAL}/settings/payments/done"

    event = stripe_payments.parse_webhook(received(delivered(fake, "account.updated")))
    assert event is not None
    assert event.type == "account_updated"
    assert event.account_id == account.account_id
    assert (event.charges_enabled, event.details_submitted) == (True, True)
    assert event.event_id.startswith("evt_")


async def test_a_missing_country_falls_back_to_the_operators_choice(
    fake: FakeStripe, fake_url: str, http: httpx.AsyncClient
) -> None:
    payments = provider(fake_url, http, connect_country="IE")
    await payments.create_account(AccountRequest(idempotency_key="account-ie", country=""))
    [call] = fake.requests_to("POST", "/v1/accounts")
    assert call.params["country"] == "IE"


# --- checkout ---------------------------------------------------------------------------------


@pytest.mark.promise("P10")
async def test_the_charge_is_made_on_the_connected_account_with_only_a_platform_fee(
    fake: FakeStripe, fake_url: str, http: httpx.AsyncClient
) -> None:
    clinic = fake.add_account()
    payments = provider(fake_url, http, application_fee_percent="2.5")
    checkout = await payments.create_checkout(checkout_request(clinic))

    [call] = fake.requests_to("POST", "/v1/checkout/sessions")
    assert call.headers["stripe-account"] == clinic  # a direct charge, on the clinic's account
    assert call.headers["idempotency-key"] == "checkout-appt-1001"
    assert call.params["mode"] == "payment"
    assert call.params["line_items"] == [
        {
            "price_data": {
                "currency": "gbp",
                "unit_amount": "4500",
                "product_data": {"name": "Initial consultation, 50 minutes"},
            },
            "quantity": "1",
        }
    ]
    assert call.params["client_reference_id"] == "appt-1001"
    assert call.params["metadata"] == {"reference": "appt-1001"}
    assert call.params["payment_intent_data"] == {
        "application_fee_amount": "113",
        "metadata": {"reference": "appt-1001"},
    }
    assert "transfer_data" not in call.params["payment_intent_data"]  # not a destination charge
    assert "on_behalf_of" not in call.params["payment_intent_data"]
    assert checkout.application_fee_minor == 113
    assert fake.owner[checkout.checkout_id] == clinic

    fake.pay(checkout.checkout_id)
    [intent] = fake.payment_intents.values()
    assert fake.owner[intent["id"]] == clinic
    assert (intent["amount"], intent["application_fee_amount"]) == (4500, 113)


async def test_no_fee_sends_no_application_fee_amount(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    checkout = await stripe_payments.create_checkout(checkout_request(fake.add_account()))
    [call] = fake.requests_to("POST", "/v1/checkout/sessions")
    assert call.params["payment_intent_data"] == {"metadata": {"reference": "appt-1001"}}
    assert checkout.application_fee_minor == 0


async def test_the_checkout_carries_the_expiry_and_the_email_when_known(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=45)
    clinic = fake.add_account()
    checkout = await stripe_payments.create_checkout(checkout_request(clinic, expires_at=expires))
    assert checkout.expires_at == expires
    anonymous = checkout_request(clinic, customer_email=None, idempotency_key="checkout-2")
    await stripe_payments.create_checkout(anonymous)
    first, second = fake.requests_to("POST", "/v1/checkout/sessions")
    assert first.params["expires_at"] == str(int(expires.timestamp()))
    assert first.params["customer_email"] == "ada@example.org"
    assert "customer_email" not in second.params


@pytest.mark.promise("P09")
async def test_the_consumer_pays_on_the_hosted_page_and_no_card_data_passes_through(
    fake: FakeStripe, stripe_payments: StripePayments, fake_url: str, http: httpx.AsyncClient
) -> None:
    clinic = fake.add_account()
    checkout = await stripe_payments.create_checkout(checkout_request(clinic))
    assert checkout.checkout_id.startswith("cs_test_")
    assert checkout.url == f"{fake_url}/checkout/{checkout.checkout_id}"
    assert {f.name for f in fields(Checkout)} == {
        "checkout_id",
        "url",
        "expires_at",
        "application_fee_minor",
        "recovered",
    }

    page = await http.get(checkout.url)
    assert page.status_code == 200
    assert "Initial consultation, 50 minutes" in page.text
    assert "GBP 45.00" in page.text
    assert "Sandbox: no real money" in page.text
    assert "<input" not in page.text  # the platform's page asks for nothing: Stripe's does
    assert "<script" not in page.text and "style=" not in page.text
    paid = await http.post(f"{checkout.url}/pay")
    assert paid.status_code == 303
    assert paid.headers["location"] == f"{PORTAL}/appointments/appt-1001/paid"

    event = stripe_payments.parse_webhook(received(delivered(fake, "checkout.session.completed")))
    assert event is not None
    assert event.type == "checkout_paid"
    assert event.account_id == clinic
    assert event.checkout_id == checkout.checkout_id
    assert event.reference == "appt-1001"
    assert (event.amount_minor, event.currency) == (4500, "GBP")
    assert event.payment_id == fake.sessions[checkout.checkout_id]["payment_intent"]
    assert event.payment_id is not None and event.payment_id.startswith("pi_")
    sent = [name for call in fake.requests for name in param_names(call.params)]
    assert sent and not [n for n in sent if "card" in n or "payment_method" in n]


async def test_a_delayed_payment_is_paid_only_when_it_settles(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    checkout = await stripe_payments.create_checkout(checkout_request(fake.add_account()))
    fake.pay(checkout.checkout_id, delayed=True)
    completed = delivered(fake, "checkout.session.completed")
    assert stripe_payments.parse_webhook(received(completed)) is None

    fake.settle_payment(checkout.checkout_id)
    event = stripe_payments.parse_webhook(
        received(delivered(fake, "checkout.session.async_payment_succeeded"))
    )
    assert event is not None and event.type == "checkout_paid"
    assert event.reference == "appt-1001"


async def test_a_failed_delayed_payment_fails_the_checkout(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    checkout = await stripe_payments.create_checkout(checkout_request(fake.add_account()))
    fake.pay(checkout.checkout_id, delayed=True)
    fake.settle_payment(checkout.checkout_id, succeeded=False)
    event = stripe_payments.parse_webhook(
        received(delivered(fake, "checkout.session.async_payment_failed"))
    )
    assert event is not None and event.type == "checkout_failed"
    assert event.checkout_id == checkout.checkout_id


async def test_expiring_a_checkout_closes_it_and_says_so(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    clinic = fake.add_account()
    checkout = await stripe_payments.create_checkout(checkout_request(clinic))
    expiry = CheckoutExpiry(account_id=clinic, checkout_id=checkout.checkout_id)
    await stripe_payments.expire_checkout(expiry)
    assert fake.sessions[checkout.checkout_id]["status"] == "expired"
    path = f"/v1/checkout/sessions/{checkout.checkout_id}/expire"
    [call] = fake.requests_to("POST", path)
    assert call.headers["stripe-account"] == clinic

    event = stripe_payments.parse_webhook(received(delivered(fake, "checkout.session.expired")))
    assert event is not None and event.type == "checkout_expired"
    assert (event.checkout_id, event.reference) == (checkout.checkout_id, "appt-1001")

    await stripe_payments.expire_checkout(expiry)  # already expired: not an error
    assert [r.status for r in fake.requests_to("POST", path)] == [200, 400]


async def test_expiring_a_paid_checkout_is_not_an_error(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    clinic = fake.add_account()
    checkout = await stripe_payments.create_checkout(checkout_request(clinic))
    fake.pay(checkout.checkout_id)
    await stripe_payments.expire_checkout(CheckoutExpiry(clinic, checkout.checkout_id))
    assert fake.sessions[checkout.checkout_id]["status"] == "complete"


async def test_expiring_an_unknown_checkout_is_refused(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    with pytest.raises(PermanentFailure) as refused:
        await stripe_payments.expire_checkout(CheckoutExpiry(fake.add_account(), "cs_test_nope"))
    assert refused.value.code == "resource_missing"


# --- refunds ----------------------------------------------------------------------------------


async def paid_checkout(fake: FakeStripe, payments: StripePayments) -> tuple[str, str]:
    """A connected account and the payment intent of a paid checkout on it."""
    clinic = fake.add_account()
    checkout = await payments.create_checkout(checkout_request(clinic))
    return clinic, fake.pay(checkout.checkout_id)["payment_intent"]


async def test_a_refund_sent_twice_with_one_key_refunds_once(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    clinic, payment = await paid_checkout(fake, stripe_payments)
    request = RefundRequest("refund-appt-1001", clinic, payment, 2000)
    first = await stripe_payments.refund(request)
    again = await stripe_payments.refund(request)  # the outbox retried after a lost answer
    assert first == again
    assert (first.amount_minor, first.status) == (2000, "succeeded")
    assert list(fake.refunds) == [first.refund_id]
    calls = fake.requests_to("POST", "/v1/refunds")
    assert [c.replayed for c in calls] == [False, True]
    assert [c.headers["stripe-account"] for c in calls] == [clinic, clinic]
    assert {c.headers["idempotency-key"] for c in calls} == {"refund-appt-1001"}

    with pytest.raises(PermanentFailure) as reused:
        await stripe_payments.refund(replace(request, amount_minor=2500))
    assert reused.value.code == "idempotency_error"
    assert "refund-appt-1001" not in reused.value.reason  # Stripe's message is not repeated


async def test_refunding_more_than_was_paid_is_refused(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    clinic, payment = await paid_checkout(fake, stripe_payments)
    await stripe_payments.refund(RefundRequest("refund-1", clinic, payment, 4000))
    with pytest.raises(PermanentFailure) as refused:
        await stripe_payments.refund(RefundRequest("refund-2", clinic, payment, 501))
    assert refused.value.code == "amount_too_large"
    assert len(fake.refunds) == 1


async def test_a_pending_refund_reports_when_it_settles(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    fake.refund_status = "pending"
    clinic, payment = await paid_checkout(fake, stripe_payments)
    refund = await stripe_payments.refund(RefundRequest("refund-1", clinic, payment, 4500))
    assert refund.status == "pending"
    assert stripe_payments.parse_webhook(received(delivered(fake, "refund.created"))) is None

    fake.settle_refund(refund.refund_id)
    event = stripe_payments.parse_webhook(received(delivered(fake, "refund.updated")))
    assert event is not None and event.type == "refund_updated"
    assert (event.refund_id, event.refund_status) == (refund.refund_id, "succeeded")
    assert (event.account_id, event.payment_id) == (clinic, payment)
    assert (event.amount_minor, event.currency) == (4500, "GBP")


async def test_a_refund_on_another_account_is_refused(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    _, payment = await paid_checkout(fake, stripe_payments)
    with pytest.raises(PermanentFailure) as refused:
        await stripe_payments.refund(RefundRequest("r-1", fake.add_account(), payment, 100))
    assert refused.value.code == "resource_missing"
    assert fake.refunds == {}


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_is_temporary_and_the_sdk_does_not_retry(
    fake: FakeStripe, stripe_payments: StripePayments, status: int
) -> None:
    fake.faults.fail_next(status=status)
    with pytest.raises(TemporaryFailure) as failed:
        await stripe_payments.create_checkout(checkout_request(fake.add_account()))
    assert f"HTTP {status}" in failed.value.reason
    assert failed.value.retry_after is None
    assert fake.faults.calls == 1  # retries are the outbox's job
    assert fake.sessions == {}


async def test_a_conflict_on_the_idempotency_key_is_temporary(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    fake.faults.fail_next(status=409)  # Stripe: the same key is in use by a concurrent request
    with pytest.raises(TemporaryFailure):
        await stripe_payments.refund(RefundRequest("r-1", fake.add_account(), "pi_x", 100))


async def test_a_rate_limit_is_temporary_and_says_when_to_retry(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    fake.faults.throttle_next(retry_after=7)
    with pytest.raises(TemporaryFailure) as throttled:
        await stripe_payments.refund(RefundRequest("r-1", fake.add_account(), "pi_x", 100))
    assert throttled.value.retry_after == 7


async def test_a_read_timeout_is_a_lost_answer(fake: FakeStripe, fake_url: str) -> None:
    fake.faults.time_out_next(delay=0.6)
    async with httpx.AsyncClient(timeout=0.15) as impatient:
        payments = provider(fake_url, impatient)
        with pytest.raises(AnswerLost) as timed_out:  # retried, and recorded as unknown
            await payments.create_account(AccountRequest(idempotency_key="a-1", country="GB"))
    assert timed_out.value.reason == (
        "Stripe did not answer in time; the request may have reached it"
    )
    fake.drain()  # let the slow answer finish before the next test resets the fake
    assert [r.path for r in fake.requests] == ["/v1/accounts"]


async def test_an_unreachable_stripe_is_temporary_and_nothing_was_sent(
    http: httpx.AsyncClient,
) -> None:
    with harness.serve(FakeStripe().app) as gone:
        pass  # the port is closed again
    with pytest.raises(TemporaryFailure) as unreachable:
        await provider(gone, http).create_account(AccountRequest("a-1", "GB"))
    assert not isinstance(unreachable.value, AnswerLost)
    assert unreachable.value.reason == "Stripe could not be reached"


def failing_with(error: httpx.TransportError) -> httpx.AsyncClient:
    """A client whose every request fails with ``error``, as the network would."""

    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    return httpx.AsyncClient(transport=httpx.MockTransport(fail))


@pytest.mark.parametrize(
    ("error", "lost"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("no handshake"), False),
        (httpx.PoolTimeout("no free connection"), False),
        (httpx.ReadTimeout("no answer"), True),
        (httpx.WriteTimeout("half sent"), True),
        (httpx.ReadError("connection reset"), True),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), True),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
async def test_a_failure_after_sending_is_a_lost_answer_and_before_it_is_temporary(
    error: httpx.TransportError, lost: bool
) -> None:
    async with failing_with(error) as http:
        payments = provider("https://stripe.internal.example", http)
        with pytest.raises(TemporaryFailure) as failed:
            await payments.refund(RefundRequest("refund-1", "acct_1", "pi_1", 100))
    assert isinstance(failed.value, AnswerLost) is lost
    assert "refund-1" not in failed.value.reason and "pi_1" not in failed.value.reason


async def test_a_refused_request_is_permanent(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    fake.faults.fail_next(status=400)
    with pytest.raises(PermanentFailure):
        await stripe_payments.create_account(AccountRequest("a-1", "GB"))


async def test_an_invalid_parameter_is_permanent_and_names_only_the_parameter(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    request = checkout_request(fake.add_account(), customer_email="ada@example")
    with pytest.raises(PermanentFailure) as refused:
        await stripe_payments.create_checkout(request)
    assert refused.value.code == "email_invalid"
    assert "(customer_email)" in refused.value.reason
    assert "ada@example" not in refused.value.reason


async def test_a_wrong_api_key_is_permanent_and_never_echoed(
    fake: FakeStripe, fake_url: str, http: httpx.AsyncClient
) -> None:
    payments = provider(fake_url, http, secret_key="sk_test_revoked00000000000000099")
    with pytest.raises(PermanentFailure) as refused:
        await payments.create_account(AccountRequest("a-1", "GB"))
    assert refused.value.code == "authentication"
    assert "revoked" not in refused.value.reason and "sk_" not in refused.value.reason
    assert fake.requests[-1].status == 401


async def test_an_unknown_connected_account_is_permanent(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    with pytest.raises(PermanentFailure) as refused:
        await stripe_payments.create_checkout(checkout_request("acct_notconnected0001"))
    assert refused.value.code == "account_invalid"


# --- webhooks ---------------------------------------------------------------------------------


@pytest.fixture
def onboarded(fake: FakeStripe) -> Delivery:
    fake.complete_onboarding(fake.add_account(ready=False))
    return delivered(fake, "account.updated")


def test_a_signature_within_the_tolerance_is_accepted(
    onboarded: Delivery, stripe_payments: StripePayments
) -> None:
    signature = FakeStripe.sign(onboarded.body, WEBHOOK_SECRET, int(time.time()) - 240)
    request = received(onboarded, headers={"stripe-signature": signature})
    assert stripe_payments.parse_webhook(request) is not None


def forged(delivery: Delivery) -> WebhookRequest:
    signature = FakeStripe.sign(delivery.body, "whsec_someone_else")
    return received(delivery, headers={"stripe-signature": signature})


def stale(delivery: Delivery) -> WebhookRequest:
    signature = FakeStripe.sign(delivery.body, WEBHOOK_SECRET, int(time.time()) - 301)
    return received(delivery, headers={"stripe-signature": signature})


def unsigned(delivery: Delivery) -> WebhookRequest:
    return received(delivery, headers={"content-type": "application/json"})


def altered(delivery: Delivery) -> WebhookRequest:
    body = delivery.body.replace(b'"charges_enabled": true', b'"charges_enabled": false')
    assert body != delivery.body
    return received(delivery, body=body)


def not_json(delivery: Delivery) -> WebhookRequest:
    body = b'{"id": "evt_1", "type": '
    return received(delivery, body=body, headers={"stripe-signature": sign(body)})


def not_an_event(delivery: Delivery) -> WebhookRequest:
    body = b'{"object": "charge", "id": "ch_1"}'
    return received(delivery, body=body, headers={"stripe-signature": sign(body)})


def sign(body: bytes) -> str:
    return FakeStripe.sign(body, WEBHOOK_SECRET)


@pytest.mark.parametrize("tamper", [forged, stale, unsigned, altered, not_json, not_an_event])
def test_a_webhook_that_fails_verification_is_rejected(
    onboarded: Delivery, stripe_payments: StripePayments, tamper: Any
) -> None:
    assert stripe_payments.parse_webhook(received(onboarded)) is not None  # the original is good
    with pytest.raises(WebhookRejected) as rejected:
        stripe_payments.parse_webhook(tamper(onboarded))
    assert WEBHOOK_SECRET not in str(rejected.value)


def test_events_the_platform_does_not_use_are_ignored(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    event = {
        "id": "evt_1",
        "object": "event",
        "type": "payout.paid",
        "created": int(time.time()),
        "data": {"object": {"id": "po_1", "object": "payout"}},
    }
    body = json.dumps(event).encode()
    request = WebhookRequest(
        WEBHOOK_URL, {"stripe-signature": sign(body)}, body, "", datetime.now(UTC)
    )
    assert stripe_payments.parse_webhook(request) is None


# --- the pinned API version -----------------------------------------------------------------------


def test_the_plugin_speaks_the_version_the_fake_implements() -> None:
    assert STRIPE_API_VERSION == API_VERSION == "2026-10-28.endive"
    assert STRIPE_API_VERSION in (payments_stripe.__doc__ or "")
    assert STRIPE_API_VERSION in (StripePayments.__doc__ or "")


async def test_every_request_names_the_pinned_version_whatever_the_sdks_default(
    fake: FakeStripe, fake_url: str, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The next major release of the SDK moves its default: the plugin must not move with it.
    monkeypatch.setattr(stripe_sdk_versions(), "CURRENT", "2099-01-01.moved")
    monkeypatch.setattr("stripe.api_version", "2099-01-01.moved")
    payments = provider(fake_url, http)
    account = await payments.create_account(AccountRequest("account-1", "GB"))
    fake.complete_onboarding(account.account_id)
    await payments.onboarding_link(OnboardingRequest(account.account_id, PORTAL, PORTAL))
    checkout = await payments.create_checkout(checkout_request(account.account_id))
    payment = fake.pay(checkout.checkout_id)["payment_intent"]
    await payments.refund(RefundRequest("refund-1", account.account_id, payment, 100, attempt=2))
    other = await payments.create_checkout(
        checkout_request(account.account_id, idempotency_key="checkout-2")
    )
    await payments.expire_checkout(CheckoutExpiry(account.account_id, other.checkout_id))
    await payments.expire_checkout(CheckoutExpiry(account.account_id, other.checkout_id))
    session = f"/v1/checkout/sessions/{other.checkout_id}"
    assert {(r.method, r.path) for r in fake.requests} == {
        ("POST", "/v1/accounts"),
        ("POST", "/v1/account_links"),
        ("POST", "/v1/checkout/sessions"),
        ("GET", "/v1/refunds"),
        ("POST", "/v1/refunds"),
        ("POST", f"{session}/expire"),
        ("GET", session),  # the second expiry looks whether it is still open
    }
    assert {r.headers.get("stripe-version") for r in fake.requests} == {STRIPE_API_VERSION}
    assert [r.status for r in fake.requests if r.status != 200] == [400]  # expired already


def stripe_sdk_versions() -> Any:
    """Where the installed SDK keeps the default version it sends."""
    import stripe._stripe_client

    return stripe._stripe_client._ApiVersion


async def test_a_version_stripe_refuses_is_permanent_and_says_what_to_do(
    fake: FakeStripe, fake_url: str, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in (stripe_provider, stripe_errors):
        monkeypatch.setattr(module, "STRIPE_API_VERSION", "2020-08-27")
    with pytest.raises(PermanentFailure) as refused:
        await provider(fake_url, http).create_account(AccountRequest("account-1", "GB"))
    assert refused.value.code == "api_version_invalid"
    assert refused.value.reason.startswith(
        "Stripe does not accept the API version this plugin speaks (2020-08-27)"
    )
    assert fake.requests[-1].headers["stripe-version"] == "2020-08-27"
    assert fake.accounts == {}


# --- a checkout's expiry --------------------------------------------------------------------------

NOW = 1_800_000_000.0  # on the five-minute grid


@pytest.mark.parametrize(
    ("wanted", "sent"),
    [
        (NOW + 30 * 60, NOW + 35 * 60),  # Stripe's shortest: a margin is added
        (NOW + 60, NOW + 35 * 60),
        (NOW - 3600, NOW + 35 * 60),
        (NOW + 35 * 60, NOW + 35 * 60),
        (NOW + 47 * 60 + 13, NOW + 47 * 60 + 13),  # inside the bounds: sent as asked
        (NOW + 23 * 3600, NOW + 23 * 3600),
        (NOW + 24 * 3600, NOW + 24 * 3600 - 5 * 60),  # Stripe's longest: a margin is kept
        (NOW + 7 * 24 * 3600, NOW + 24 * 3600 - 5 * 60),
    ],
)
def test_the_expiry_asked_of_stripe_keeps_inside_its_bounds_with_a_margin(
    wanted: float, sent: float
) -> None:
    assert checkout_expiry(datetime.fromtimestamp(wanted, UTC), now=NOW) == sent


def test_a_moved_expiry_is_the_same_for_a_retry_a_little_later() -> None:
    wanted = datetime.fromtimestamp(NOW + 30 * 60, UTC)
    first = checkout_expiry(wanted, now=NOW + 1)
    assert checkout_expiry(wanted, now=NOW + 170) == first  # Stripe can replay the retry
    assert NOW + 1 + 35 * 60 <= first <= NOW + 1 + 40 * 60


async def test_a_checkout_for_the_shortest_hold_is_taken_despite_latency_and_skew(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    # The clinic holds the time 30 minutes (payment_hold_minutes' least), and Stripe's clock
    # is a few seconds ahead of ours, or the request takes that long to arrive.
    fake.advance(5)
    wanted = datetime.now(UTC) + timedelta(minutes=30)
    checkout = await stripe_payments.create_checkout(
        checkout_request(fake.add_account(), expires_at=wanted)
    )
    session = fake.sessions[checkout.checkout_id]
    assert session["expires_at"] - session["created"] >= 30 * 60
    assert checkout.expires_at == datetime.fromtimestamp(session["expires_at"], UTC)
    assert checkout.expires_at >= wanted  # the time stays held at least as long as Stripe's page


async def test_a_checkout_never_asks_for_more_than_a_day_and_says_what_stripe_set(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    wanted = datetime.now(UTC) + timedelta(days=3)
    checkout = await stripe_payments.create_checkout(
        checkout_request(fake.add_account(), expires_at=wanted)
    )
    session = fake.sessions[checkout.checkout_id]
    assert session["expires_at"] - session["created"] <= 24 * 3600 - 5 * 60
    assert checkout.expires_at == datetime.fromtimestamp(session["expires_at"], UTC) < wanted


# --- lost answers and retries ---------------------------------------------------------------------


@pytest.fixture
async def impatient() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=0.2) as client:
        yield client


async def test_a_retried_checkout_whose_first_answer_was_lost_is_recovered(
    fake: FakeStripe, fake_url: str, impatient: httpx.AsyncClient
) -> None:
    payments = provider(fake_url, impatient)
    request = checkout_request(fake.add_account())
    fake.lose_next_response(delay=0.6)
    with pytest.raises(AnswerLost):
        await payments.create_checkout(request)
    fake.drain()
    assert len(fake.sessions) == 1  # it had arrived

    checkout = await payments.create_checkout(request)
    assert checkout.recovered is True  # Stripe answered from its idempotency memory
    assert list(fake.sessions) == [checkout.checkout_id]
    assert [r.replayed for r in fake.requests_to("POST", "/v1/checkout/sessions")] == [False, True]


async def test_a_checkout_stripe_made_now_is_not_recovered(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    checkout = await stripe_payments.create_checkout(checkout_request(fake.add_account()))
    assert checkout.recovered is False


async def test_a_first_refund_attempt_neither_looks_nor_says(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    clinic, payment = await paid_checkout(fake, stripe_payments)
    refund = await stripe_payments.refund(RefundRequest("refund-appt-1001", clinic, payment, 2000))
    assert getattr(refund, "recovered", "missing") is None
    assert fake.requests_to("GET", "/v1/refunds") == []
    [call] = fake.requests_to("POST", "/v1/refunds")
    assert call.params["metadata"] == {"praxis_idempotency_key": "refund-appt-1001"}
    assert fake.refunds[refund.refund_id]["metadata"] == {
        "praxis_idempotency_key": "refund-appt-1001"
    }


async def test_a_refund_retried_after_stripes_idempotency_window_is_not_sent_twice(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    clinic, payment = await paid_checkout(fake, stripe_payments)
    request = RefundRequest("refund-appt-1001", clinic, payment, 2000)
    first = await stripe_payments.refund(request)
    # Staff press "Try again" 25 hours later: Stripe has forgotten the idempotency key.
    fake.advance(25 * 3600)
    stripe_payments.clock = lambda: time.time() + 25 * 3600

    again = await stripe_payments.refund(replace(request, attempt=2))
    assert (again.refund_id, again.amount_minor, again.status) == (
        first.refund_id,
        2000,
        "succeeded",
    )
    assert getattr(again, "recovered", None) is True
    assert list(fake.refunds) == [first.refund_id]  # refunded once
    assert len(fake.requests_to("POST", "/v1/refunds")) == 1
    [looked] = fake.requests_to("GET", "/v1/refunds")
    assert looked.params["payment_intent"] == payment
    assert looked.headers["stripe-account"] == clinic


async def test_a_refund_retried_within_the_window_is_answered_from_stripes_memory(
    fake: FakeStripe, fake_url: str, impatient: httpx.AsyncClient
) -> None:
    payments = provider(fake_url, impatient)
    clinic, payment = await paid_checkout(fake, payments)
    request = RefundRequest("refund-appt-1001", clinic, payment, 2000)
    fake.lose_next_response(delay=0.6)
    with pytest.raises(AnswerLost):
        await payments.refund(request)
    fake.drain()

    again = await payments.refund(replace(request, attempt=2))
    assert getattr(again, "recovered", None) is True
    assert list(fake.refunds) == [again.refund_id]
    posts = fake.requests_to("POST", "/v1/refunds")
    assert [r.replayed for r in posts] == [False, True]
    gets = [i for i, r in enumerate(fake.requests) if r.method == "GET"]
    assert gets and gets[0] < fake.requests.index(posts[1])  # it looked before sending again


async def test_a_retry_that_finds_no_refund_makes_it(
    fake: FakeStripe, stripe_payments: StripePayments
) -> None:
    clinic, payment = await paid_checkout(fake, stripe_payments)
    await stripe_payments.refund(RefundRequest("another-refund", clinic, payment, 500))
    fake.advance(25 * 3600)
    stripe_payments.clock = lambda: time.time() + 25 * 3600

    refund = await stripe_payments.refund(RefundRequest("refund-2", clinic, payment, 2000, 3))
    assert getattr(refund, "recovered", None) is False  # no earlier attempt had arrived
    assert len(fake.refunds) == 2
    assert fake.refunds[refund.refund_id]["amount"] == 2000


async def test_the_lookup_reads_every_page_of_refunds(
    fake: FakeStripe, stripe_payments: StripePayments, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe_provider, "REFUND_PAGE", 2)
    clinic, payment = await paid_checkout(fake, stripe_payments)
    ours = await stripe_payments.refund(RefundRequest("ours", clinic, payment, 100))
    for number in range(4):  # newer refunds, made for other requests
        await stripe_payments.refund(RefundRequest(f"other-{number}", clinic, payment, 100))
        fake.advance(1)
    fake.advance(25 * 3600)
    stripe_payments.clock = lambda: time.time() + 25 * 3600

    found = await stripe_payments.refund(RefundRequest("ours", clinic, payment, 100, attempt=2))
    assert found.refund_id == ours.refund_id
    assert len(fake.requests_to("GET", "/v1/refunds")) == 3  # 2 + 2 + the page with ours
    assert len(fake.refunds) == 5
