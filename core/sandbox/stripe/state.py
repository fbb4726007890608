"""What the fake keeps besides Stripe's objects: requests, endpoints, links, replays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReceivedRequest:
    """One API call as the fake received it, for assertions on headers and parameters."""

    method: str
    path: str  # below the mount, e.g. /v1/checkout/sessions
    headers: dict[str, str]  # lower-case names
    params: dict[str, Any]  # the form (or query) decoded from bracket notation
    status: int
    replayed: bool = False  # answered from the idempotency store, with no second effect


@dataclass(frozen=True)
class WebhookEndpoint:
    url: str
    secret: str
    connect: bool = True  # receives events from connected accounts (else the platform's own)
    events: tuple[str, ...] = ("*",)


@dataclass
class Saved:
    """A POST's answer kept under its idempotency key, with the request it answered."""

    fingerprint: str
    body: dict[str, Any]
    at: int  # when, on the fake's clock: forgotten once the idempotency window has passed


@dataclass
class Call:
    """One API call as an operation sees it."""

    params: dict[str, Any]
    path: dict[str, str]
    account: str | None  # the Stripe-Account header: act as this connected account
    request_id: str
    idempotency_key: str | None
    site: str  # the absolute URL of this app, mount prefix included, for hosted page links


@dataclass
class Onboarding:
    """Where an account link sends the person afterwards, and until when it works."""

    return_url: str | None
    refresh_url: str | None
    expires_at: int


@dataclass
class Checkout:
    """What the hosted page needs beyond the session object."""

    description: str
    application_fee_amount: int | None
    payment_intent_metadata: dict[str, str] = field(default_factory=dict)
