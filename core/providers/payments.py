"""Payments to the clinic's own account: the DTOs and the Protocol a payments plugin implements.

The platform never sees a card: the consumer pays on the provider's hosted page, and the
money goes to the tenant's (or the Professional's) connected account, not the platform's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from praxis.core.providers.common import WebhookReply, WebhookRequest
from praxis.core.providers.manifest import DataCategory


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
    account_id: str
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
    url: str
    expires_at: datetime


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
    checkout_id: str
    url: str  # send the consumer here to pay
    expires_at: datetime
    application_fee_minor: int = 0  # the platform's fee on this charge, if the operator set one


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
    idempotency_key: str
    account_id: str
    payment_id: str  # the provider's id of the payment taken
    amount_minor: int

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return (DataCategory.PAYMENT,)


@dataclass(frozen=True)
class Refund:
    refund_id: str
    amount_minor: int
    status: Literal["succeeded", "pending", "failed"]


PaymentEventType = Literal[
    "checkout_paid", "checkout_expired", "checkout_failed", "account_updated", "refund_updated"
]


@dataclass(frozen=True)
class PaymentEvent:
    """A verified webhook, in the platform's words."""

    event_id: str  # unique at the provider; replays carry the same id
    type: PaymentEventType
    occurred_at: datetime
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
