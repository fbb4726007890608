"""Payments to the clinic's own account: the DTOs and the Protocol a payments plugin implements.

The platform never sees a card: the consumer pays on the provider's hosted page, and the
money goes to the tenant's (or the Professional's) connected account, not the platform's.

Lifecycle: a clinic (or a Professional) opens a connected account once (``create_account``)
and finishes it on the provider's pages (``onboarding_link``). A paid booking holds its time
while the consumer pays on a hosted page (``create_checkout``, made once per appointment and
reused until it expires); only a verified ``checkout_paid`` webhook confirms the booking, and
``checkout_expired`` releases the time. A cancelled booking's unpaid checkout is closed
(``expire_checkout``) and a paid one refunded by the clinic's policy (``refund``; a retry,
even days later, must find a refund an earlier attempt made rather than refund twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import AwareDatetime, NonNegativeInt

from praxis.core.providers.common import (
    DataCategory,
    Kind,
    Operation,
    PersonLink,
    ProviderId,
    WebhookReply,
    WebhookRequest,
)


@dataclass(frozen=True)
class AccountRequest:
    """Open a connected account for a clinic or a Professional (no personal data is sent)."""

    idempotency_key: str
    country: str  # ISO 3166-1 alpha-2, e.g. GB

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return ()


@dataclass(frozen=True)
class ConnectedAccount:
    account_id: ProviderId
    charges_enabled: bool
    details_submitted: bool


@dataclass(frozen=True)
class OnboardingRequest:
    """A single-use link to the provider's onboarding pages for a connected account."""

    account_id: str
    return_url: str  # where the provider sends the person back when done
    refresh_url: str  # where it sends them if the link has expired

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return ()


@dataclass(frozen=True)
class OnboardingLink:
    url: PersonLink  # where the clinic finishes its account: https (http in development only)
    expires_at: AwareDatetime


@dataclass(frozen=True)
class CheckoutRequest:
    """A hosted payment page for one consultation, charged on the connected account."""

    idempotency_key: str
    account_id: str  # the connected account that is paid (a direct charge)
    reference: str  # the platform's id for what is paid for (an appointment id)
    description: str  # what the consumer sees they pay for
    amount_minor: int
    currency: str  # ISO 4217, e.g. GBP
    customer_email: str | None
    success_url: str
    cancel_url: str
    expires_at: datetime  # unpaid after this, the time held for the consumer is released

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        sent = [DataCategory.PAYMENT, DataCategory.APPOINTMENT]
        if self.customer_email:
            sent.append(DataCategory.EMAIL)
        return tuple(sent)


@dataclass(frozen=True)
class Checkout:
    checkout_id: ProviderId
    url: PersonLink  # send the consumer here to pay: https (http in development only)
    expires_at: AwareDatetime
    application_fee_minor: NonNegativeInt = 0  # the platform's fee on this charge, if any
    recovered: bool | None = None  # True: the checkout an earlier attempt made (as Meeting's)


@dataclass(frozen=True)
class CheckoutExpiry:
    """Close an unpaid checkout early (the consumer cancelled before paying)."""

    account_id: str
    checkout_id: str

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return ()


@dataclass(frozen=True)
class RefundRequest:
    idempotency_key: str  # the same on every attempt, however far apart
    account_id: str
    payment_id: str  # the provider's id of the payment taken
    amount_minor: int
    attempt: int = 1  # a later attempt must look for the refund an earlier one made

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return (DataCategory.PAYMENT,)


@dataclass(frozen=True)
class Refund:
    refund_id: ProviderId
    amount_minor: NonNegativeInt
    status: Literal["succeeded", "pending", "failed"]
    recovered: bool | None = None  # True: the refund an earlier attempt made (as Meeting's)


PaymentEventType = Literal[
    "checkout_paid", "checkout_expired", "checkout_failed", "account_updated", "refund_updated"
]


@dataclass(frozen=True)
class PaymentEvent:
    """A verified webhook, in the platform's words."""

    event_id: ProviderId  # unique at the provider; replays carry the same id
    type: PaymentEventType
    occurred_at: AwareDatetime
    account_id: str | None = None
    checkout_id: str | None = None
    payment_id: str | None = None
    reference: str | None = None  # the CheckoutRequest's reference
    amount_minor: int | None = None
    currency: str | None = None
    charges_enabled: bool | None = None  # account_updated
    details_submitted: bool | None = None  # account_updated
    refund_id: str | None = None  # refund_updated
    refund_status: str | None = None  # refund_updated


@runtime_checkable
class PaymentsProvider(Protocol):
    async def create_account(self, request: AccountRequest) -> ConnectedAccount: ...

    async def onboarding_link(self, request: OnboardingRequest) -> OnboardingLink: ...

    async def create_checkout(self, request: CheckoutRequest) -> Checkout: ...

    async def expire_checkout(self, request: CheckoutExpiry) -> None:
        """Expiring one that is already expired or paid is not an error."""
        ...

    async def refund(self, request: RefundRequest) -> Refund: ...

    def parse_webhook(self, request: WebhookRequest) -> PaymentEvent | None:
        """Verify and read a webhook; None for events the platform does not use."""
        ...

    @property
    def webhook_reply(self) -> WebhookReply: ...


CREATE_ACCOUNT: Operation[AccountRequest, ConnectedAccount] = Operation(
    "create_account",
    AccountRequest,
    ConnectedAccount,
    sends=(),
    description="a connected account for the clinic or a Professional",
)
ONBOARDING_LINK: Operation[OnboardingRequest, OnboardingLink] = Operation(
    "onboarding_link",
    OnboardingRequest,
    OnboardingLink,
    sends=(),
    description="a single-use link to finish the connected account on the provider's pages",
)
CREATE_CHECKOUT: Operation[CheckoutRequest, Checkout] = Operation(
    "create_checkout",
    CheckoutRequest,
    Checkout,
    sends=(DataCategory.PAYMENT, DataCategory.APPOINTMENT, DataCategory.EMAIL),
    description="a hosted payment page for one consultation, paid to the connected account",
)
EXPIRE_CHECKOUT: Operation[CheckoutExpiry, None] = Operation(
    "expire_checkout",
    CheckoutExpiry,
    None,
    sends=(),
    description="an unpaid checkout closed early (its booking was cancelled)",
)
REFUND: Operation[RefundRequest, Refund] = Operation(
    "refund",
    RefundRequest,
    Refund,
    sends=(DataCategory.PAYMENT,),
    description="money back for a cancelled consultation, by the clinic's policy",
)
KIND = Kind(
    "payments",
    "online payment",
    PaymentsProvider,
    (CREATE_ACCOUNT, ONBOARDING_LINK, CREATE_CHECKOUT, EXPIRE_CHECKOUT, REFUND),
    events=(PaymentEvent,),
)
