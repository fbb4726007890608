"""``TillpointPayments``: consumers pay the clinic's connected account on Tillpoint's page.

Every charge is made on the connected account (the ``Tillpoint-Account`` header); the
platform takes only its fee. Tillpoint keeps an idempotency key for 24 hours, so a refund,
which may be retried days later, also carries a reference made from the key and a later
attempt looks for it first.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from urllib.parse import quote

from praxis.core.providers.common import (
    PermanentFailure,
    ProviderContext,
    WebhookReply,
    WebhookRequest,
)
from praxis.core.providers.payments import (
    AccountRequest,
    Checkout,
    CheckoutExpiry,
    CheckoutRequest,
    ConnectedAccount,
    OnboardingLink,
    OnboardingRequest,
    PaymentEvent,
    Refund,
    RefundRequest,
)
from pydantic import BaseModel, Field

from praxis_payments_tillpoint.api import Refused, TillpointApi
from praxis_payments_tillpoint.settings import TillpointSettings
from praxis_payments_tillpoint.webhooks import payment_event, verify


class _Account(BaseModel):
    id: str = Field(min_length=1)
    charges_enabled: bool
    details_submitted: bool


class _Link(BaseModel):
    url: str
    expires_at: int  # Tillpoint's times are Unix seconds


class _Checkout(BaseModel):
    id: str = Field(min_length=1)
    url: str
    expires_at: int
    platform_fee: int = 0


class _Refund(BaseModel):
    id: str = Field(min_length=1)
    amount: int
    status: Literal["succeeded", "pending", "failed"]
    reference: str = ""


class _Refunds(BaseModel):
    refunds: list[_Refund]


def reference(idempotency_key: str) -> str:
    return "praxis-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


class TillpointPayments:
    """A ``PaymentsProvider`` for the platform's Tillpoint account and the clinics' own."""

    webhook_reply = WebhookReply()

    def __init__(self, context: ProviderContext[TillpointSettings]) -> None:
        self._api = TillpointApi(context.http, context.settings)
        self._fee_percent = context.settings.platform_fee_percent
        self._secret = context.settings.webhook_secret.get_secret_value().encode()
        self._webhook_url = context.webhook_url  # where this clinic's events must be sent

    async def create_account(self, request: AccountRequest) -> ConnectedAccount:
        answer = await self._api.call(
            "POST",
            "/accounts",
            "open the connected account",
            idempotency_key=request.idempotency_key,
            json={"country": request.country, "webhook_url": self._webhook_url},
        )
        account = answer.read(_Account)
        return ConnectedAccount(
            account_id=account.id,
            charges_enabled=account.charges_enabled,
            details_submitted=account.details_submitted,
        )

    async def onboarding_link(self, request: OnboardingRequest) -> OnboardingLink:
        answer = await self._api.call(
            "POST",
            f"/accounts/{quote(request.account_id, safe='')}/onboarding_links",
            "make the onboarding link",
            json={"return_url": request.return_url, "refresh_url": request.refresh_url},
        )
        link = answer.read(_Link)
        return OnboardingLink(url=link.url, expires_at=datetime.fromtimestamp(link.expires_at, UTC))

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        fee = platform_fee(request.amount_minor, self._fee_percent)
        answer = await self._api.call(
            "POST",
            "/checkouts",
            "create the checkout",
            account=request.account_id,  # a direct charge: the clinic is paid, not the platform
            idempotency_key=request.idempotency_key,
            json={
                "reference": request.reference,
                "description": request.description,
                "amount": request.amount_minor,
                "currency": request.currency,
                "customer_email": request.customer_email,
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
                "expires_at": _unix(request.expires_at),
                "platform_fee": fee,
            },
        )
        checkout = answer.read(_Checkout)
        return Checkout(
            checkout_id=checkout.id,
            url=checkout.url,
            expires_at=datetime.fromtimestamp(checkout.expires_at, UTC),
            application_fee_minor=checkout.platform_fee,
            # a replayed key means an earlier attempt had made this checkout; otherwise none did
            recovered=answer.replayed,
        )

    async def expire_checkout(self, request: CheckoutExpiry) -> None:
        try:
            await self._api.call(
                "POST",
                f"/checkouts/{quote(request.checkout_id, safe='')}/expire",
                "close the checkout",
                account=request.account_id,
            )
        except Refused as refused:
            if refused.code != "checkout_not_open":  # already paid or expired: done
                raise

    async def refund(self, request: RefundRequest) -> Refund:
        mine = reference(request.idempotency_key)
        if request.attempt > 1:  # the key may have expired at Tillpoint: look first
            answer = await self._api.call(
                "GET",
                "/refunds",
                "look for the refund",
                account=request.account_id,
                params={"payment": request.payment_id},
            )
            earlier = [r for r in answer.read(_Refunds).refunds if r.reference == mine]
            if earlier:
                return _refund(earlier[0])
        answer = await self._api.call(
            "POST",
            "/refunds",
            "make the refund",
            account=request.account_id,
            idempotency_key=request.idempotency_key,
            json={"payment": request.payment_id, "amount": request.amount_minor, "reference": mine},
        )
        return _refund(answer.read(_Refund))

    def parse_webhook(self, request: WebhookRequest) -> PaymentEvent | None:
        header = request.headers.get("tillpoint-signature")
        verify(header, request.body, self._secret, request.received_at)
        return payment_event(request.body)


def platform_fee(amount_minor: int, percent: Decimal) -> int:
    """The platform's fee in minor units, rounded half up (half a penny is a penny)."""
    fee = (Decimal(amount_minor) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(fee)


def _refund(found: _Refund) -> Refund:
    return Refund(refund_id=found.id, amount_minor=found.amount, status=found.status)


def _unix(moment: datetime) -> int:
    if moment.tzinfo is None:  # a naive time is ambiguous: refuse rather than guess a zone
        raise PermanentFailure("the checkout's expiry time has no time zone")
    return int(moment.timestamp())
