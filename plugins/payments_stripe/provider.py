"""``StripePayments``: Stripe Connect with direct charges, through the official SDK, speaking
Stripe API version 2026-10-28.endive (``STRIPE_API_VERSION``) on every request."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
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
from praxis.plugins.payments_stripe.version import STRIPE_API_VERSION
from praxis.plugins.payments_stripe.webhooks import payment_event, verified_event

if TYPE_CHECKING:
    from stripe.params import RefundCreateParams, RefundListParams
    from stripe.params.checkout import SessionCreateParams

RefundStatus = Literal["succeeded", "pending", "failed"]
_REFUND_STATUS: dict[str, RefundStatus] = {
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
}
# Stripe's bounds on a Checkout Session's ``expires_at``, counted from the moment Stripe creates
# it (a moment after this server reads its clock, and on Stripe's clock, not ours), and the
# margin kept inside both so that latency and clock skew never push a request outside them.
CHECKOUT_SHORTEST = timedelta(minutes=30)
CHECKOUT_LONGEST = timedelta(hours=24)
CHECKOUT_MARGIN = timedelta(minutes=5)
CHECKOUT_GRID = timedelta(minutes=5)
# Each refund records the platform's idempotency key in its metadata, so a later attempt can
# find it whatever time has passed. Stripe replays a key's answer for at least 24 hours: within
# (less a margin for clock skew) a retry re-sends the request and Stripe answers from memory;
# after it, the retry returns the refund it found rather than sending again.
REFUND_KEY = "praxis_idempotency_key"
REPLAYED_FOR = timedelta(hours=23)
REFUND_PAGE = 100  # refunds read per request when looking (Stripe's most)


class StripePayments:
    """A ``PaymentsProvider``: the consumer pays the clinic's connected account on Stripe's page.

    Every charge is made on the connected account (the ``Stripe-Account`` header); the platform
    takes only its fee, as ``application_fee_amount``. No card data passes through here.

    Every request names Stripe API version 2026-10-28.endive (``STRIPE_API_VERSION``,
    ``version.py``) in ``Stripe-Version``, whatever the installed SDK's default or the account's.
    A transport failure once a request may have left is ``AnswerLost``; a retried checkout or
    refund says through ``recovered`` whether an earlier attempt had reached Stripe.
    """

    def __init__(self, context: ProviderContext[StripeSettings]) -> None:
        self.settings = context.settings
        base = str(context.settings.api_base_url).rstrip("/")
        self.client = stripe.StripeClient(
            context.settings.secret_key.get_secret_value(),
            stripe_version=STRIPE_API_VERSION,
            base_addresses={"api": base, "connect": base},
            http_client=PlatformHttpClient(context.http),
            max_network_retries=0,  # the outbox retries, with its backoff and its idempotency keys
        )
        self.clock: Callable[[], float] = time.time  # seconds since the epoch; tests move it

    @staticmethod
    def _options(
        account: str | None = None, idempotency_key: str | None = None
    ) -> stripe.RequestOptions:
        """Each request's options: always the pinned API version, the account and key if any."""
        options: stripe.RequestOptions = {"stripe_version": STRIPE_API_VERSION}
        if account is not None:
            options["stripe_account"] = account
        if idempotency_key is not None:
            options["idempotency_key"] = idempotency_key
        return options

    @property
    def webhook_reply(self) -> WebhookReply:
        return WebhookReply()

    async def create_account(self, request: AccountRequest) -> ConnectedAccount:
        with stripe_errors():
            account = await self.client.v1.accounts.create_async(
                {"type": "standard", "country": request.country or self.settings.connect_country},
                self._options(idempotency_key=request.idempotency_key),
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
                },
                self._options(),
            )
        return OnboardingLink(url=link.url, expires_at=datetime.fromtimestamp(link.expires_at, UTC))

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        """The hosted page; ``expires_at`` is the one Stripe set (see ``checkout_expiry``), and
        ``recovered`` True when Stripe answered a retry from its idempotency memory."""
        fee = application_fee(request.amount_minor, self.settings.application_fee_percent)
        with stripe_errors():
            session = await self.client.v1.checkout.sessions.create_async(
                checkout_params(request, fee, now=self.clock()),
                self._options(request.account_id, request.idempotency_key),
            )
        if not session.url:
            raise PermanentFailure(f"Stripe gave checkout {session.id} no hosted page")
        return Checkout(
            checkout_id=session.id,
            url=session.url,
            expires_at=datetime.fromtimestamp(session.expires_at, UTC),
            application_fee_minor=fee,
            recovered=replayed(session),
        )

    async def expire_checkout(self, request: CheckoutExpiry) -> None:
        sessions = self.client.v1.checkout.sessions
        on_account = self._options(request.account_id)
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
        """Refund once, however many attempts and however far apart.

        A first attempt sends the refund (``recovered`` None). A later one first looks for the
        refund an earlier attempt made (its metadata holds the idempotency key): one made
        longer ago than Stripe's idempotency memory is returned as it is (``recovered`` True),
        for sending again would refund twice; otherwise the request is sent again, and Stripe
        either answers from memory (True) or makes the refund now (False).
        """
        params: RefundCreateParams = {
            "payment_intent": request.payment_id,
            "amount": request.amount_minor,
            "metadata": {REFUND_KEY: request.idempotency_key},
        }
        with stripe_errors():
            if request.attempt > 1:
                earlier = await self._refund_made_for(request)
                if earlier is not None and self.clock() - earlier.created >= _seconds(REPLAYED_FOR):
                    return _refund(earlier, recovered=True)
            refund = await self.client.v1.refunds.create_async(
                params, self._options(request.account_id, request.idempotency_key)
            )
        return _refund(refund, recovered=replayed(refund) if request.attempt > 1 else None)

    async def _refund_made_for(self, request: RefundRequest) -> stripe.Refund | None:
        """The payment's refund an earlier attempt of this request made, if any."""
        options = self._options(request.account_id)
        after: str | None = None
        while True:
            params: RefundListParams = {"payment_intent": request.payment_id, "limit": REFUND_PAGE}
            if after is not None:
                params["starting_after"] = after
            page = await self.client.v1.refunds.list_async(params, options)
            for refund in page.data:
                if _recorded_key(refund) == request.idempotency_key:
                    return refund
            if not page.has_more or not page.data:
                return None
            after = page.data[-1].id

    def parse_webhook(self, request: WebhookRequest) -> PaymentEvent | None:
        secret = self.settings.webhook_secret.get_secret_value()
        event = verified_event(request.body, request.headers.get("stripe-signature"), secret)
        return payment_event(event)


def application_fee(amount_minor: int, percent: Decimal) -> int:
    """The platform's fee in minor units, rounded half up (half a penny is a penny)."""
    fee = (Decimal(amount_minor) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(fee)


def checkout_expiry(wanted: datetime, *, now: float) -> int:
    """``wanted`` as Stripe will take it, in seconds since the epoch: at least its shortest life
    from ``now`` and at most its longest, each with a margin to spare.

    A wanted time inside those bounds is sent unchanged. One outside is moved to the nearest
    bound, on a five-minute grid: a retry of the same request a little later (its answer was
    lost) then asks for the same time, and Stripe, which compares a retry's parameters with
    the first's, answers it from its idempotency memory instead of refusing it.
    """
    grid = _seconds(CHECKOUT_GRID)
    earliest = math.ceil((now + _seconds(CHECKOUT_SHORTEST + CHECKOUT_MARGIN)) / grid) * grid
    latest = math.floor((now + _seconds(CHECKOUT_LONGEST - CHECKOUT_MARGIN)) / grid) * grid
    return int(min(max(_epoch(wanted), earliest), latest))


def checkout_params(request: CheckoutRequest, fee: int, *, now: float) -> SessionCreateParams:
    """One line item, paid on Stripe's hosted page; the reference ties it back to the booking.
    ``now`` is this server's time (seconds since the epoch), for the session's expiry."""
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
        "expires_at": checkout_expiry(request.expires_at, now=now),
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


def _seconds(span: timedelta) -> float:
    return span.total_seconds()


def replayed(answer: stripe.StripeObject) -> bool:
    """Stripe answered from its idempotency memory: an earlier request with this key arrived."""
    response = answer.last_response
    headers: Mapping[str, str] = response.headers if response is not None else {}
    return any(
        name.lower() == "idempotent-replayed" and value.strip().lower() == "true"
        for name, value in headers.items()
    )


def _recorded_key(refund: stripe.Refund) -> str | None:
    """The idempotency key the platform recorded in a refund's metadata, if any. (Metadata is
    a StripeObject, not a dict, in recent SDKs: read it by key, which both allow.)"""
    metadata = getattr(refund, "metadata", None)
    if metadata is None or REFUND_KEY not in metadata:
        return None
    value = metadata[REFUND_KEY]
    return value if isinstance(value, str) else None


def _refund(refund: stripe.Refund, *, recovered: bool | None) -> Refund:
    return Refund(
        refund_id=refund.id,
        amount_minor=refund.amount,
        status=_REFUND_STATUS.get(refund.status or "", "pending"),
        recovered=recovered,
    )
