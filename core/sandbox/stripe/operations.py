"""The API operations: each checks its parameters as the contract does, then acts."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from praxis.core.sandbox.stripe import objects
from praxis.core.sandbox.stripe.errors import invalid, missing, no_access, no_such
from praxis.core.sandbox.stripe.objects import new_id
from praxis.core.sandbox.stripe.params import (
    ACCOUNT_LINK_PARAMS,
    ACCOUNT_PARAMS,
    NO_PARAMS,
    RANGE_PARAMS,
    REFUND_LIST_PARAMS,
    REFUND_PARAMS,
    SESSION_PARAMS,
    Params,
    check_shape,
    param_name,
)
from praxis.core.sandbox.stripe.state import Call, Checkout, Onboarding

if TYPE_CHECKING:
    from praxis.core.sandbox.stripe.fake import FakeStripe

# How long after its creation a Checkout Session may expire, in seconds: Stripe refuses an
# ``expires_at`` outside these, measured from the moment it creates the session.
SESSION_LIFETIME = (30 * 60, 24 * 3600)


# --- accounts -------------------------------------------------------------------------------------


def create_account(fake: FakeStripe, call: Call) -> dict[str, Any]:
    params = Params(call.params, ACCOUNT_PARAMS)
    kind = params.choice("type", options=("custom", "express", "standard")) or "standard"
    country = params.text("country") or "US"
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise invalid(
            f"Country '{country}' is unknown. Try using a 2-character alphanumeric "
            "country code instead, such as 'US', 'EG', or 'GB'.",
            param="country",
        )
    account = objects.account(new_id("acct_", 16), country, kind, False, created=fake.now())
    account["email"] = params.text("email")
    account["metadata"] = params.metadata("metadata")
    fake.accounts[account["id"]] = account
    return copy.deepcopy(account)


def retrieve_account(fake: FakeStripe, call: Call) -> dict[str, Any]:
    Params(call.params, NO_PARAMS)
    account_id = call.path["account"]
    if account_id not in fake.accounts:
        raise no_access(None, account_id)
    return copy.deepcopy(fake.accounts[account_id])


def create_account_link(fake: FakeStripe, call: Call) -> dict[str, Any]:
    params = Params(call.params, ACCOUNT_LINK_PARAMS)
    account_id = params.text("account", required=True) or ""
    params.choice("type", options=("account_onboarding", "account_update"), required=True)
    params.choice("collect", options=("currently_due", "eventually_due"))
    return_url, refresh_url = params.url("return_url"), params.url("refresh_url")
    if account_id not in fake.accounts:
        raise no_such("account", account_id, param="account", status=400)
    created = fake.now()
    fake._onboarding[account_id] = Onboarding(return_url, refresh_url, created + 300)
    return {
        "object": "account_link",
        "created": created,
        "expires_at": created + 300,
        "url": f"{call.site}/onboarding/{account_id}",
    }


# --- checkout sessions ----------------------------------------------------------------------------


def create_session(fake: FakeStripe, call: Call) -> dict[str, Any]:
    params = Params(call.params, SESSION_PARAMS)
    success_url = params.url("success_url", required=True)
    cancel_url = params.url("cancel_url", required=True)
    if params.get("line_items") is None:
        raise missing("line_items")
    mode = params.choice("mode", options=("payment", "setup", "subscription"), required=True)
    if mode != "payment":
        raise invalid("This fake supports mode=payment only.", param="mode")
    currency, total, names = _line_items(params)
    fee = params.integer("payment_intent_data", "application_fee_amount")
    if (
        fee is not None
        and call.account is None
        and not params.get("payment_intent_data", "transfer_data", "destination")
    ):
        raise invalid(
            "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
            "direct payment (using an OAuth key or Stripe-Account header) or destination "
            "payment (using `transfer_data[destination]`).",
            param="payment_intent_data[application_fee_amount]",
        )
    if fee is not None and fee > total:
        raise invalid(
            f"The application fee ({fee}) cannot exceed the amount of the payment ({total}).",
            param="payment_intent_data[application_fee_amount]",
        )
    created = fake.now()
    expires_at = params.integer("expires_at")
    if expires_at is not None:
        _check_lifetime(expires_at - created)
    email = params.text("customer_email")
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise invalid("Invalid email address", param="customer_email", code="email_invalid")
    if call.account is not None and not fake.accounts[call.account]["charges_enabled"]:
        raise invalid(
            "This account cannot currently make charges: its onboarding is incomplete.",
            code="account_invalid",
        )
    session_id = new_id("cs_test_", 58)
    session = objects.session(session_id, currency, total, created)
    session.update(
        cancel_url=cancel_url,
        success_url=success_url,
        client_reference_id=params.text("client_reference_id", max_length=200),
        customer_email=email,
        expires_at=expires_at or created + SESSION_LIFETIME[1],
        metadata=params.metadata("metadata"),
        url=f"{call.site}/checkout/{session_id}",
    )
    fake.sessions[session_id] = session
    fake.owner[session_id] = call.account
    fake._checkouts[session_id] = Checkout(
        ", ".join(names), fee, params.metadata("payment_intent_data", "metadata")
    )
    return copy.deepcopy(session)


def _check_lifetime(seconds: int) -> None:
    """Stripe's two refusals of an ``expires_at`` too soon or too late after creation."""
    if seconds < SESSION_LIFETIME[0]:
        raise invalid(
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
            "creation.",
            param="expires_at",
        )
    if seconds > SESSION_LIFETIME[1]:
        raise invalid(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            param="expires_at",
        )


def retrieve_session(fake: FakeStripe, call: Call) -> dict[str, Any]:
    Params(call.params, NO_PARAMS)
    return copy.deepcopy(_session_of(fake, call))


def expire_session(fake: FakeStripe, call: Call) -> dict[str, Any]:
    Params(call.params, NO_PARAMS)
    session = _session_of(fake, call)
    if session["status"] != "open":
        raise invalid(
            'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{session["status"]}".'
        )
    return fake.expire(session["id"])


def _session_of(fake: FakeStripe, call: Call) -> dict[str, Any]:
    session_id = call.path["session"]
    if session_id not in fake.sessions or fake.owner[session_id] != call.account:
        raise no_such("checkout.session", session_id, param="session")
    return fake.sessions[session_id]


def _line_items(params: Params) -> tuple[str, int, list[str]]:
    """The single currency, the total and the product names of the line items."""
    items = params.get("line_items")
    if not items:
        raise missing("line_items")
    currencies, total, names = set(), 0, []
    for index in range(len(items)):
        price = params.get("line_items", index, "price")
        if price is not None:  # the fake keeps no Price objects: use price_data
            raise no_such("price", price, param=f"line_items[{index}][price]", status=400)
        if params.get("line_items", index, "price_data") is None:
            raise missing(f"line_items[{index}][price_data]")
        data: tuple[str | int, ...] = ("line_items", index, "price_data")
        currency = (params.text(*data, "currency", required=True) or "").lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise invalid(f"Invalid currency: {currency}.", param=param_name((*data, "currency")))
        unit_amount = params.integer(*data, "unit_amount", required=True) or 0
        names.append(params.text(*data, "product_data", "name", required=True) or "")
        quantity = params.integer("line_items", index, "quantity", required=True, minimum=1) or 1
        currencies.add(currency)
        total += unit_amount * quantity
    if len(currencies) > 1:
        raise invalid("All line items must use the same currency.", param="line_items")
    return currencies.pop(), total, names


# --- refunds --------------------------------------------------------------------------------------


def create_refund(fake: FakeStripe, call: Call) -> dict[str, Any]:
    params = Params(call.params, REFUND_PARAMS)
    intent_id, charge_id = params.text("payment_intent"), params.text("charge")
    if intent_id and charge_id:
        raise invalid(
            "You cannot specify both `charge` and `payment_intent`.",
            code="parameters_exclusive",
        )
    if not (intent_id or charge_id):
        raise missing("payment_intent")
    amount = params.integer("amount", minimum=1)
    params.choice("reason", options=("duplicate", "fraudulent", "requested_by_customer"))
    params.flag("refund_application_fee")
    params.flag("reverse_transfer")
    charge = _charge_to_refund(fake, call, intent_id, charge_id)
    left = charge["amount"] - charge["amount_refunded"]
    if left == 0:
        raise invalid(
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
        )
    if amount is not None and amount > left:
        raise invalid(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
            param="amount",
            code="amount_too_large",
        )
    refund = objects.refund(
        new_id("re_"),
        charge,
        amount=amount or left,
        metadata=params.metadata("metadata"),
        reason=params.text("reason"),
        status=fake.refund_status,
        created=fake.now(),
    )
    charge["amount_refunded"] += refund["amount"]
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
    fake.refunds[refund["id"]] = refund
    fake.owner[refund["id"]] = call.account
    fake._emit("refund.created", refund, call.account, call=call)
    fake._emit("charge.refunded", charge, call.account, call=call)
    return copy.deepcopy(refund)


def list_refunds(fake: FakeStripe, call: Call) -> dict[str, Any]:
    """The account's refunds, newest first, filtered and paged as the contract describes."""
    params = Params(call.params, REFUND_LIST_PARAMS)
    intent_id, charge_id = params.text("payment_intent"), params.text("charge")
    limit = params.integer("limit", minimum=1)
    if limit is not None and limit > 100:
        raise invalid(
            "This value must be less than or equal to 100.",
            param="limit",
            code="parameter_invalid_integer",
        )
    if intent_id and (
        intent_id not in fake.payment_intents or fake.owner[intent_id] != call.account
    ):
        raise no_such("payment_intent", intent_id, param="payment_intent", status=400)
    if charge_id and (charge_id not in fake.charges or fake.owner[charge_id] != call.account):
        raise no_such("charge", charge_id, param="charge", status=400)
    created = _created_filter(params)
    found = [
        refund
        for refund in reversed(fake.refunds.values())
        if fake.owner[refund["id"]] == call.account
        and (not intent_id or refund["payment_intent"] == intent_id)
        and (not charge_id or refund["charge"] == charge_id)
        and created(refund["created"])
    ]
    page, has_more = _page(fake, call, found, params, limit or 10)
    return objects.list_of(copy.deepcopy(page), "/v1/refunds", has_more=has_more)


def _created_filter(params: Params) -> Callable[[int], bool]:
    """``created=<epoch>`` or ``created[gt|gte|lt|lte]=<epoch>``."""
    value = params.get("created")
    if value is None:
        return lambda _: True
    if not isinstance(value, dict):
        exactly = params.integer("created")
        return lambda moment: moment == exactly
    check_shape(value, RANGE_PARAMS, ("created",))
    bounds = {op: params.integer("created", op) for op in value}
    tests: dict[str, Callable[[int, int], bool]] = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    return lambda moment: all(
        tests[op](moment, bound) for op, bound in bounds.items() if bound is not None
    )


def _page(
    fake: FakeStripe, call: Call, found: list[dict[str, Any]], params: Params, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """One page of ``found`` (newest first) after ``starting_after`` or before ``ending_before``,
    each an id of a refund on the same account."""
    after, before = params.text("starting_after"), params.text("ending_before")
    if after and before:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            code="parameters_exclusive",
        )
    newest_first = [r for r in reversed(fake.refunds) if fake.owner[r] == call.account]
    rank = {refund_id: index for index, refund_id in enumerate(newest_first)}
    for name, cursor in (("starting_after", after), ("ending_before", before)):
        if cursor and cursor not in rank:
            raise no_such("refund", cursor, param=name, status=400)
    if before:
        earlier = [item for item in found if rank[item["id"]] < rank[before]]
        return earlier[-limit:], len(earlier) > limit
    later = [item for item in found if after is None or rank[item["id"]] > rank[after]]
    return later[:limit], len(later) > limit


def _charge_to_refund(
    fake: FakeStripe, call: Call, intent_id: str | None, charge_id: str | None
) -> dict[str, Any]:
    if intent_id:
        intent = fake.payment_intents.get(intent_id)
        if intent is None or fake.owner[intent_id] != call.account:
            raise no_such("payment_intent", intent_id, param="payment_intent", status=400)
        if intent["latest_charge"] is None:
            raise invalid(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        return fake.charges[intent["latest_charge"]]
    assert charge_id is not None
    if charge_id not in fake.charges or fake.owner[charge_id] != call.account:
        raise no_such("charge", charge_id, param="charge", status=400)
    return fake.charges[charge_id]


# --- events ---------------------------------------------------------------------------------------


def retrieve_event(fake: FakeStripe, call: Call) -> dict[str, Any]:
    Params(call.params, NO_PARAMS)
    event_id = call.path["id"]
    if event_id not in fake.events or fake.owner[event_id] != call.account:
        raise no_such("event", event_id, param="id")
    return copy.deepcopy(fake.events[event_id])
