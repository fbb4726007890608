"""Stripe's objects with every field the fixtures list (stripe-objects.fixtures.json).

Each builder gives the whole object as Stripe sends it for what the fake supports (a hosted
Checkout in ``mode=payment``, paid by card on a connected account), so code that starts
reading a field meets it here first, not in production. Fields the fake has no use for carry
the value Stripe gives them in that case (mostly ``null``, ``false`` or empty).
"""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

_ALNUM = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def now() -> int:
    """The wall clock; a ``FakeStripe`` uses its own (``FakeStripe.now``), which tests move."""
    return int(time.time())


def list_of(data: list[dict[str, Any]], url: str, *, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _address() -> dict[str, None]:
    return dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))


# --- accounts -------------------------------------------------------------------------------------


def account(
    account_id: str, country: str, kind: str, ready: bool, *, created: int | None = None
) -> dict[str, Any]:
    currency = {"GB": "gbp", "US": "usd", "IE": "eur"}.get(country, "usd")
    return {
        "id": account_id,
        "object": "account",
        "business_profile": {
            "annual_revenue": None,
            "estimated_worker_count": None,
            "mcc": None,
            "minority_owned_business_designation": None,
            "name": None,
            "product_description": None,
            "support_address": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": None,
        "controller": {"type": "account"},
        "country": country,
        "created": now() if created is None else created,
        "default_currency": currency,
        "email": None,
        "external_accounts": list_of([], f"/v1/accounts/{account_id}/external_accounts"),
        "future_requirements": _requirements([], disabled_reason=None),
        "metadata": {},
        "settings": _account_settings(country),
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
        "requirements": _requirements(
            due, disabled_reason=None if ready else "requirements.past_due"
        ),
    }


def _requirements(due: list[str], *, disabled_reason: str | None) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def _account_settings(country: str) -> dict[str, Any]:
    descriptors = dict.fromkeys(
        (
            "statement_descriptor",
            "statement_descriptor_kana",
            "statement_descriptor_kanji",
            "statement_descriptor_prefix_kana",
            "statement_descriptor_prefix_kanji",
        )
    )
    return {
        "bacs_debit_payments": {"display_name": None, "service_user_number": None},
        "branding": dict.fromkeys(("icon", "logo", "primary_color", "secondary_color")),
        "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
        "card_payments": {
            "decline_on": {"avs_failure": False, "cvc_failure": False},
            "statement_descriptor_prefix": None,
            "statement_descriptor_prefix_kana": None,
            "statement_descriptor_prefix_kanji": None,
        },
        "dashboard": {
            "display_name": None,
            "timezone": "Europe/London" if country == "GB" else "Etc/UTC",
        },
        "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": "offer"},
        "payments": descriptors,
        "payouts": {
            "debit_negative_balances": True,
            "schedule": {"delay_days": 7, "interval": "daily"},
            "statement_descriptor": None,
        },
        "sepa_debit_payments": {},
    }


# --- checkout sessions ----------------------------------------------------------------------------


def session(session_id: str, currency: str, total: int, created: int) -> dict[str, Any]:
    """An open hosted Checkout Session in ``mode=payment``, before anyone has paid."""
    return {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": None,
        "client_reference_id": None,
        "client_secret": None,  # only embedded and custom ui_modes have one
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": dict.fromkeys(
            ("after_submit", "shipping_address", "submit", "terms_of_service_acceptance")
        ),
        "customer": None,
        "customer_account": None,
        "customer_creation": "if_required",
        "customer_details": None,
        "customer_email": None,
        "discounts": [],
        "expires_at": None,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": None,
        "managed_payments": None,
        "metadata": {},
        "mode": "payment",
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": None,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": None,
        "wallet_options": None,
    }


def customer_details(email: str | None) -> dict[str, Any]:
    """What the hosted page collected from the person who paid (the fake asks for nothing)."""
    return {
        "address": None,
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def collected_information() -> dict[str, Any]:
    return {"business_name": None, "individual_name": None, "shipping_details": None}


# --- payments -------------------------------------------------------------------------------------


def payment_intent(
    intent_id: str,
    *,
    amount: int,
    currency: str,
    application_fee_amount: int | None,
    metadata: dict[str, str],
    created: int,
    delayed: bool,
) -> dict[str, Any]:
    """The PaymentIntent a paid Checkout Session made: succeeded, or processing (bank debit)."""
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0 if delayed else amount,
        "application": None,
        "application_fee_amount": application_fee_amount,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_{new_id('', 25)}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": None,
        "customer_account": None,
        "description": None,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": dict(metadata),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": new_id("pm_"),
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "processing" if delayed else "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def charge(charge_id: str, intent: dict[str, Any], *, created: int) -> dict[str, Any]:
    """The successful card charge of ``intent``, on the same connected account."""
    amount = intent["amount"]
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": intent["application_fee_amount"],
        "balance_transaction": new_id("txn_"),
        "billing_details": {
            "address": _address(),
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": None,
        "captured": True,
        "created": created,
        "currency": intent["currency"],
        "customer": None,
        "description": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": intent["id"],
        "payment_method": intent["payment_method"],
        "payment_method_details": {"card": _card(amount), "type": "card"},
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "refunds": list_of([], f"/v1/charges/{charge_id}/refunds"),
        "review": None,
        "shipping": None,
        "source": None,  # a PaymentIntent's charge has a payment_method, not a source
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,  # a direct charge: nothing is transferred on
        "transfer_group": None,
    }


def _card(amount: int) -> dict[str, Any]:
    """Stripe's test Visa card, as a charge describes it (the sandbox never sees a card)."""
    return {
        "amount_authorized": amount,
        "authorization_code": None,
        "brand": "visa",
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },
        "country": "US",
        "exp_month": 12,
        "exp_year": 2034,
        "extended_authorization": {"status": "disabled"},
        "fingerprint": new_id("", 16),
        "funding": "credit",
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": "4242",
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": "visa",
        "network_token": {"used": False},
        "network_transaction_id": None,
        "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
        "regulated_status": "unregulated",
        "three_d_secure": None,
        "transaction_link_id": None,
        "wallet": None,
    }


def refund(
    refund_id: str,
    charge: dict[str, Any],
    *,
    amount: int,
    metadata: dict[str, str],
    reason: str | None,
    status: str,
    created: int,
) -> dict[str, Any]:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "customer": None,
        "customer_account": None,
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": dict(metadata),
        "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }


# --- events ---------------------------------------------------------------------------------------


def event(
    kind: str,
    item: dict[str, Any],
    *,
    api_version: str,
    created: int,
    pending_webhooks: int,
    request_id: str | None,
    idempotency_key: str | None,
) -> dict[str, Any]:
    return {
        "id": new_id("evt_"),
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": {"object": item},
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": kind,
    }
