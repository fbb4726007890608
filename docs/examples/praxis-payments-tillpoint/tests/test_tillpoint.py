"""The Tillpoint plugin, as the platform will use it, against the fake of Tillpoint."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from praxis.core import testing
from praxis.core.providers.common import PermanentFailure, TemporaryFailure, WebhookRejected
from praxis.core.providers.payments import (
    AccountRequest,
    CheckoutExpiry,
    CheckoutRequest,
    PaymentEvent,
    RefundRequest,
)

import praxis_payments_tillpoint
from fake_tillpoint import FakeTillpoint

CLINIC = "https://test-clinic.praxis.example"


def tillpoint_provider(settings: dict[str, str], http: httpx.AsyncClient) -> Any:
    return testing.provider(testing.load(praxis_payments_tillpoint), settings, http=http)


def checkout_for(account_id: str) -> CheckoutRequest:
    return CheckoutRequest(
        idempotency_key="checkout-appointment-1",
        account_id=account_id,
        reference="appointment-1",
        description="Initial consultation with Dr Sam Rivera, Tue 6 May 2031, 10:00",
        amount_minor=6000,
        currency="GBP",
        customer_email="alex@example.org",
        success_url=f"{CLINIC}/appointments/appointment-1?paid=1",
        cancel_url=f"{CLINIC}/appointments/appointment-1",
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


async def open_account(provider: Any) -> str:
    account = await provider.create_account(AccountRequest("account-clinic-1", "GB"))
    return str(account.account_id)


def test_it_loads_as_the_platform_loads_it() -> None:
    plugin = testing.load(praxis_payments_tillpoint)
    assert (plugin.manifest.name, plugin.manifest.kind) == ("payments_tillpoint", "payments")


async def test_it_passes_the_kits_checks(
    tillpoint: FakeTillpoint, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    plugin = testing.load(praxis_payments_tillpoint)
    provider = testing.provider(plugin, settings, http=praxis_http)
    assert await testing.behaviour(plugin, provider) == []


async def test_a_clinic_opens_its_account_and_finishes_it_on_tillpoints_pages(
    tillpoint: FakeTillpoint, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = tillpoint_provider(settings, praxis_http)
    account_id = await open_account(provider)
    [account] = tillpoint.state.accounts.values()
    assert account.webhook_url == f"{CLINIC}/-/plugins/payments_tillpoint/webhook"
    delivery = await tillpoint.finish_onboarding(account_id)
    event = provider.parse_webhook(testing.webhook_request(delivery))
    assert isinstance(event, PaymentEvent)
    assert (event.type, event.account_id, event.charges_enabled) == (
        "account_updated",
        account_id,
        True,
    )


async def test_the_clinic_is_paid_and_the_platform_takes_only_its_fee(
    tillpoint: FakeTillpoint, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = tillpoint_provider(settings, praxis_http)
    account_id = await open_account(provider)
    checkout = await provider.create_checkout(checkout_for(account_id))
    assert checkout.application_fee_minor == 150  # 2.5% of £60.00
    assert tillpoint.state.checkouts[checkout.checkout_id].account == account_id
    assert (await provider.create_checkout(checkout_for(account_id))).recovered is True
    paid = provider.parse_webhook(
        testing.webhook_request(await tillpoint.pay(checkout.checkout_id))
    )
    assert (paid.type, paid.checkout_id, paid.account_id, paid.reference, paid.currency) == (
        "checkout_paid",
        checkout.checkout_id,
        account_id,
        "appointment-1",
        "GBP",
    )
    expiry = CheckoutExpiry(account_id=account_id, checkout_id=checkout.checkout_id)
    await provider.expire_checkout(expiry)  # already paid: not an error


async def test_a_refund_retried_after_the_key_expired_is_not_made_twice(
    tillpoint: FakeTillpoint, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = tillpoint_provider(settings, praxis_http)
    account_id = await open_account(provider)
    checkout = await provider.create_checkout(checkout_for(account_id))
    paid = provider.parse_webhook(
        testing.webhook_request(await tillpoint.pay(checkout.checkout_id))
    )
    request = RefundRequest("job-refund-1", account_id, paid.payment_id, amount_minor=3000)
    first = await provider.refund(request)
    tillpoint.forget_idempotency_keys()  # days later, a member of staff clicks Try again
    again = await provider.refund(dataclasses.replace(request, attempt=2))
    assert again.refund_id == first.refund_id and len(tillpoint.state.refunds) == 1


async def test_failures_say_whether_to_try_again(
    tillpoint: FakeTillpoint, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = tillpoint_provider(settings, praxis_http)
    account_id = await open_account(provider)
    tillpoint.faults.fail_next(status=503)
    with pytest.raises(TemporaryFailure, match="create the checkout"):
        await provider.create_checkout(checkout_for(account_id))
    naive = dataclasses.replace(checkout_for(account_id), expires_at=datetime(2031, 5, 6, 10))
    with pytest.raises(PermanentFailure, match="no time zone"):
        await provider.create_checkout(naive)
    with pytest.raises(PermanentFailure, match="unknown_account"):
        await provider.create_checkout(checkout_for("acct_not_this_platforms"))


async def test_webhooks_not_signed_by_tillpoint_are_rejected(
    tillpoint: FakeTillpoint, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = tillpoint_provider(settings, praxis_http)
    delivery = await tillpoint.finish_onboarding(await open_account(provider))
    forged = dataclasses.replace(delivery, body=delivery.body.replace(b"true", b"false"))
    with pytest.raises(WebhookRejected, match="does not match"):
        provider.parse_webhook(testing.webhook_request(forged))
    assert testing.rejects_forged_webhooks(provider) == []
