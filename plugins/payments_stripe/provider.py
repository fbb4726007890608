"""``StripePayments``: Stripe Connect with direct charges, through the official SDK."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Literal

import stripe

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
from praxis.plugins.payments_stripe.errors import failure, stripe_errors
from praxis.plugins.payments_stripe.settings import StripeSettings
from praxis.plugins.payments_stripe.transport import PlatformHttpClient
from praxis.plugins.payments_stripe.webhooks import payment_event, verified_event

if TYPE_CHECKING:
    from stripe.params.checkout import SessionCreateParams

RefundStatus = Literal["succeeded", "pending", "failed"]
_REFUND_STATUS: dict[str, RefundStatus] = {
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
}


class StripePayments:
    """A ``PaymentsProvider``: the consumer pays the clinic's connected account on Stripe's page.

    Every charge is made on the connected account (the ``Stripe-Account`` header); the platform
    takes only its fee, as ``application_fee_amount``. No card data passes through here.
    """

    def __init__(self, context: ProviderContext[StripeSettings]) -> None:
        self.settings = context.settings
        base = str(context.settings.api_base_url).rstrip("/")
        self.client = stripe.StripeClient(
            context.settings.secret_key.get_secret_value(),
            base_addresses={"api": base, "connect": base},
            http_client=PlatformHttpClient(context.http),
            max_network_retries=0,  # the outbox retries, with its backoff and its idempotency keys
        )

    @property
    def webhook_reply(self) -> WebhookReply:
        return WebhookReply()

    async def create_account(self, request: AccountRequest) -> ConnectedAccount:
        with stripe_errors():
            account = await self.client.v1.accounts.create_async(
                {"type": "standard", "country": request.country or self.settings.connect_country},
                {"idempotency_key": request.idempotency_key},
            )
        return ConnectedAccount(
            account_id=account.id,
            charges_enabled=bool(account.charges_enabled),
            details_submitted=bool(account.details_submitted),
        )

    async def onboarding_link(self, request: OnboardingRequest) -> OnboardingLink:
        with stripe_errors():
            link = await self.client.v1.account_links.create_async(
                {
                    "account": request.account_id,
                    "type": "account_onboarding",
                    "refresh_url": request.refresh_url,
                    "return_url": request.return_url,
                }
            )
        return OnboardingLink(url=link.url, expires_at=datetime.fromtimestamp(link.expires_at, UTC))

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        fee = application_fee(request.amount_minor, self.settings.application_fee_percent)
        with stripe_errors():
            session = await self.client.v1.checkout.sessions.create_async(
                checkout_params(request, fee),
                {"stripe_account": request.account_id, "idempotency_key": request.idempotency_key},
            )
        if not session.url:
            raise PermanentFailure(f"Stripe gave checkout {session.id} no hosted page")
        return Checkout(
            checkout_id=session.id,
            url=session.url,
            expires_at=datetime.fromtimestamp(session.expires_at, UTC),
            application_fee_minor=fee,
        )

    async def expire_checkout(self, request: CheckoutExpiry) -> None:
        sessions = self.client.v1.checkout.sessions
        on_account: stripe.RequestOptions = {"stripe_account": request.account_id}
        try:
            await sessions.expire_async(request.checkout_id, options=on_account)
        except stripe.InvalidRequestError as refused:
            # Stripe refuses to expire a session that is no longer open: paid or expired is done.
            with stripe_errors():
                session = await sessions.retrieve_async(request.checkout_id, options=on_account)
            if session.status != "open":
                return
            raise failure(refused) from None
        except stripe.StripeError as exc:
            raise failure(exc) from None

    async def refund(self, request: RefundRequest) -> Refund:
        with stripe_errors():
            refund = await self.client.v1.refunds.create_async(
                {"payment_intent": request.payment_id, "amount": request.amount_minor},
                {"stripe_account": request.account_id, "idempotency_key": request.idempotency_key},
            )
        return Refund(
            refund_id=refund.id,
            amount_minor=refund.amount,
            status=_REFUND_STATUS.get(refund.status or "", "pending"),
        )

    def parse_webhook(self, request: WebhookRequest) -> PaymentEvent | None:
        secret = self.settings.webhook_secret.get_secret_value()
        event = verified_event(request.body, request.headers.get("stripe-signature"), secret)
        return payment_event(event)


def application_fee(amount_minor: int, percent: Decimal) -> int:
    """The platform's fee in minor units, rounded half up (half a penny is a penny)."""
    fee = (Decimal(amount_minor) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(fee)


def checkout_params(request: CheckoutRequest, fee: int) -> SessionCreateParams:
    """One line item, paid on Stripe's hosted page; the reference ties it back to the booking."""
    reference = {"reference": request.reference}
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": request.currency.lower(),
                    "unit_amount": request.amount_minor,
                    "product_data": {"name": request.description},
                },
                "quantity": 1,
            }
        ],
        "client_reference_id": request.reference,
        "metadata": reference,
        "payment_intent_data": {"metadata": reference},
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "expires_at": _epoch(request.expires_at),
    }
    if fee > 0:
        params["payment_intent_data"]["application_fee_amount"] = fee
    if request.customer_email:
        params["customer_email"] = request.customer_email
    return params


def _epoch(moment: datetime) -> int:
    """Seconds since the epoch; a naive datetime is taken as UTC, never as the server's zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp())
