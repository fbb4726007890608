"""Tillpoint's webhooks: the Tillpoint-Signature check on the raw body, then the events the
platform uses, in its words.

Tillpoint signs ``<t>.<body>`` with HMAC-SHA256 and the platform's webhook secret, and sends
``Tillpoint-Signature: t=<unix seconds>,v1=<hex>``. Each connected account's events go to the
URL it was opened with: the clinic's webhook URL.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from praxis.core.providers.common import WebhookRejected
from praxis.core.providers.payments import PaymentEvent, PaymentEventType
from pydantic import BaseModel, Field, ValidationError

TOLERANCE_SECONDS = 300
_TYPES: dict[str, PaymentEventType] = {
    "checkout.paid": "checkout_paid",
    "checkout.expired": "checkout_expired",
    "checkout.failed": "checkout_failed",
    "account.updated": "account_updated",
    "refund.updated": "refund_updated",
}


class _Event(BaseModel):
    id: str = Field(min_length=1)
    type: str
    created: int
    account: str = Field(min_length=1)
    data: dict[str, Any]


class _Data(BaseModel):
    """Every field any of the events above carries; each event has some of them."""

    checkout: str | None = None
    payment: str | None = None
    reference: str | None = None
    amount: int | None = None
    currency: str | None = None
    charges_enabled: bool | None = None
    details_submitted: bool | None = None
    refund: str | None = None
    status: str | None = None


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(header: str | None, body: bytes, secret: bytes, received_at: datetime) -> None:
    """Raise WebhookRejected unless Tillpoint signed exactly this body, recently."""
    if not header:
        raise WebhookRejected("no Tillpoint-Signature header")
    parts: dict[str, str] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        parts[name] = value
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or not given:
        raise WebhookRejected("Tillpoint-Signature needs t= and v1=")
    expected = signature(secret, body, int(timestamp))
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise WebhookRejected("Tillpoint-Signature does not match the body")
    if abs(received_at.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise WebhookRejected("Tillpoint-Signature is too old (or from the future)")


def payment_event(body: bytes) -> PaymentEvent | None:
    """What a verified body means to the platform; None for events it does not use."""
    try:
        event = _Event.model_validate_json(body)
        data = _Data.model_validate(event.data)
    except ValidationError:  # its message would quote the body
        raise WebhookRejected("the body is not a Tillpoint event") from None
    kind = _TYPES.get(event.type)
    if kind is None:
        return None
    return PaymentEvent(
        event_id=event.id,
        type=kind,
        occurred_at=datetime.fromtimestamp(event.created, UTC),
        account_id=event.account,  # the platform matches checkouts to the clinic's account
        checkout_id=data.checkout,
        payment_id=data.payment,
        reference=data.reference,
        amount_minor=data.amount,
        currency=data.currency.upper() if data.currency else None,
        charges_enabled=data.charges_enabled,
        details_submitted=data.details_submitted,
        refund_id=data.refund,
        refund_status=data.status if kind == "refund_updated" else None,
    )
