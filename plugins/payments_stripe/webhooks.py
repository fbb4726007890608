"""Stripe's Connect webhooks: verified on the raw body, then read in the platform's words."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe

from praxis.core.providers.common import WebhookRejected
from praxis.core.providers.payments import PaymentEvent, PaymentEventType

TOLERANCE_SECONDS = 300  # Stripe's own default: older signatures may be replays

_CHECKOUT: dict[str, PaymentEventType] = {
    "checkout.session.async_payment_succeeded": "checkout_paid",
    "checkout.session.expired": "checkout_expired",
    "checkout.session.async_payment_failed": "checkout_failed",
}
_REFUND = frozenset({"refund.updated", "charge.refund.updated"})


def verified_event(body: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event in ``body`` once ``signature`` proves Stripe sent it, recently."""
    if not signature:
        raise WebhookRejected("no Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(body, signature, secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(f"Stripe-Signature rejected: {exc.user_message}") from None
    except UnicodeDecodeError:
        raise WebhookRejected("the body is not UTF-8") from None
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookRejected("the body is not JSON") from None
    if not (
        isinstance(event, dict)
        and event.get("object") == "event"
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise WebhookRejected("the body is not a Stripe event")
    return event


def payment_event(event: Mapping[str, Any]) -> PaymentEvent | None:
    """What a verified event means to the platform; None for events it does not use."""
    kind: str = event["type"]
    item: Mapping[str, Any] = event["data"]["object"]
    common: dict[str, Any] = {
        "event_id": event["id"],
        "occurred_at": datetime.fromtimestamp(event["created"], UTC),
        "account_id": _text(event, "account"),  # set on events from connected accounts
    }
    if kind == "checkout.session.completed":
        # Unpaid means a delayed method: async_payment_succeeded or _failed follows.
        paid = item.get("payment_status") == "paid"
        return _checkout(common, "checkout_paid", item) if paid else None
    if kind in _CHECKOUT:
        return _checkout(common, _CHECKOUT[kind], item)
    if kind == "account.updated":
        return PaymentEvent(
            **{**common, "account_id": common["account_id"] or _text(item, "id")},
            type="account_updated",
            charges_enabled=_flag(item, "charges_enabled"),
            details_submitted=_flag(item, "details_submitted"),
        )
    if kind in _REFUND:
        return PaymentEvent(
            **common,
            type="refund_updated",
            refund_id=_text(item, "id"),
            refund_status=_text(item, "status"),
            payment_id=_id(item.get("payment_intent")),
            amount_minor=_number(item, "amount"),
            currency=_currency(item),
        )
    return None


def _checkout(
    common: dict[str, Any], kind: PaymentEventType, session: Mapping[str, Any]
) -> PaymentEvent:
    metadata = session.get("metadata")
    reference = _text(session, "client_reference_id") or (
        _text(metadata, "reference") if isinstance(metadata, Mapping) else None
    )
    return PaymentEvent(
        **common,
        type=kind,
        checkout_id=_text(session, "id"),
        payment_id=_id(session.get("payment_intent")),
        reference=reference,
        amount_minor=_number(session, "amount_total"),
        currency=_currency(session),
    )


def _text(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) and value else None


def _number(item: Mapping[str, Any], key: str) -> int | None:
    value = item.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _flag(item: Mapping[str, Any], key: str) -> bool | None:
    value = item.get(key)
    return value if isinstance(value, bool) else None


def _id(value: object) -> str | None:
    """An id, whether Stripe sent it as is or expanded into its object."""
    if isinstance(value, Mapping):
        return _text(value, "id")
    return value if isinstance(value, str) and value else None


def _currency(item: Mapping[str, Any]) -> str | None:
    currency = _text(item, "currency")
    return currency.upper() if currency else None
