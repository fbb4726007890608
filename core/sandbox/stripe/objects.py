"""Stripe's objects as the fixtures shape them: ids, timestamps, accounts and sessions."""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

_ALNUM = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def now() -> int:
    return int(time.time())


def account(account_id: str, country: str, kind: str, ready: bool) -> dict[str, Any]:
    return {
        "id": account_id,
        "object": "account",
        "business_profile": {"mcc": None, "name": None, "support_email": None, "url": None},
        "business_type": None,
        "controller": {"type": "account"},
        "country": country,
        "created": now(),
        "default_currency": {"GB": "gbp", "US": "usd", "IE": "eur"}.get(country, "usd"),
        "email": None,
        "external_accounts": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/accounts/{account_id}/external_accounts",
        },
        "metadata": {},
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": kind,
        **readiness(account_id, ready=ready),
    }


def readiness(account_id: str, *, ready: bool) -> dict[str, Any]:
    """The fields onboarding changes: can it charge, and what Stripe still needs to know."""
    due = [] if ready else ["business_profile.url", "external_account", "tos_acceptance.date"]
    capability = "active" if ready else "inactive"
    return {
        "capabilities": {"card_payments": capability, "transfers": capability},
        "charges_enabled": ready,
        "details_submitted": ready,
        "payouts_enabled": ready,
        "requirements": {
            "alternatives": [],
            "current_deadline": None,
            "currently_due": due,
            "disabled_reason": None if ready else "requirements.past_due",
            "errors": [],
            "eventually_due": due,
            "past_due": due,
            "pending_verification": [],
        },
    }


def session(session_id: str, currency: str, total: int, created: int) -> dict[str, Any]:
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": total,
        "amount_total": total,
        "cancel_url": None,
        "client_reference_id": None,
        "created": created,
        "currency": currency,
        "customer": None,
        "customer_details": None,
        "customer_email": None,
        "expires_at": None,
        "livemode": False,
        "locale": None,
        "metadata": {},
        "mode": "payment",
        "payment_intent": None,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "status": "open",
        "success_url": None,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": None,
    }
