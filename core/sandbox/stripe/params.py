"""Form bodies in bracket notation, and what the contract says each endpoint accepts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from praxis.core.sandbox.stripe.errors import invalid, missing

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``line_items[0][price_data][currency]=gbp`` and friends, as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise invalid(f"Invalid parameter name: {key}", param=key)
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for depth, segment in enumerate(path):
            name = segment or str(len(node))  # "expand[]" appends
            if depth == len(path) - 1:
                if isinstance(node.get(name), dict):
                    raise invalid(f"Invalid value for {key}: it is also a hash", param=key)
                node[name] = value
            else:
                child = node.setdefault(name, {})
                if not isinstance(child, dict):
                    raise invalid(f"Invalid hash for {key}", param=key)
                node = child
    decoded = _lists(root)
    if not isinstance(decoded, dict):
        raise invalid("Invalid parameters: the body is an array")
    return decoded


def _lists(node: Any) -> Any:
    """A hash whose keys are all indexes is an array, in index order."""
    if not isinstance(node, dict):
        return node
    items = {k: _lists(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


LEAF, ANY, MAP, LIST = "leaf", "any", "map", "list"  # a string, anything, str->str, [str]
Spec = Any  # LEAF | ANY | MAP | LIST | dict[str, Spec] | list[Spec] (an array of objects)


def fields(strings: str = "", *, opaque: str = "", **nested: Spec) -> dict[str, Spec]:
    """A hash of string parameters, parameters the fake accepts unread, and nested ones."""
    return {**dict.fromkeys(strings.split(), LEAF), **dict.fromkeys(opaque.split(), ANY), **nested}


# What the contract says each endpoint accepts.
ACCOUNT_PARAMS = fields(
    "type country email default_currency",
    opaque="account_token bank_account business_profile business_type capabilities company "
    "documents external_account individual settings tos_acceptance",
    metadata=MAP,
    expand=LIST,
)
ACCOUNT_LINK_PARAMS = fields("account type refresh_url return_url collect", expand=LIST)
SESSION_PARAMS = fields(
    "mode success_url cancel_url client_reference_id customer_email expires_at",
    opaque="after_expiration allow_promotion_codes automatic_tax billing_address_collection "
    "consent_collection customer customer_creation customer_update discounts locale "
    "payment_method_options phone_number_collection setup_intent_data "
    "shipping_address_collection shipping_options submit_type subscription_data "
    "tax_id_collection",
    metadata=MAP,
    expand=LIST,
    payment_method_types=LIST,
    line_items=[
        fields(
            "price quantity",
            opaque="adjustable_quantity dynamic_tax_rates tax_rates",
            price_data=fields(
                "currency unit_amount unit_amount_decimal product tax_behavior",
                opaque="recurring",
                product_data=fields("name description tax_code", images=LIST, metadata=MAP),
            ),
        )
    ],
    payment_intent_data=fields(
        "application_fee_amount capture_method description on_behalf_of receipt_email "
        "setup_future_usage statement_descriptor statement_descriptor_suffix transfer_group",
        opaque="shipping",
        metadata=MAP,
        transfer_data=fields("amount destination"),
    ),
)
REFUND_PARAMS = fields(
    "payment_intent charge amount reason refund_application_fee reverse_transfer",
    metadata=MAP,
    expand=LIST,
)
REFUND_LIST_PARAMS = fields(
    "charge payment_intent limit starting_after ending_before",
    opaque="created",  # an integer or a range (gt, gte, lt, lte): read by the operation
    expand=LIST,
)
RANGE_PARAMS = fields("gt gte lt lte")
NO_PARAMS = fields(expand=LIST)


def param_name(path: tuple[str | int, ...]) -> str:
    head, *rest = path
    return str(head) + "".join(f"[{part}]" for part in rest)


def check_shape(value: Any, spec: Spec, path: tuple[str | int, ...] = ()) -> None:
    """Unknown parameters and hashes where strings belong, as Stripe reports them."""
    if spec == ANY:
        return
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise invalid(f"Invalid object for {param_name(path)}", param=param_name(path))
        for key, item in value.items():
            if key not in spec:
                name = param_name((*path, key))
                raise invalid(
                    f"Received unknown parameter: {name}", param=name, code="parameter_unknown"
                )
            check_shape(item, spec[key], (*path, key))
    elif isinstance(spec, list):
        if not isinstance(value, list):
            raise invalid(f"Invalid array for {param_name(path)}", param=param_name(path))
        for index, item in enumerate(value):
            check_shape(item, spec[0], (*path, index))
    elif spec == MAP:
        if not (value == "" or isinstance(value, dict)):
            raise invalid(f"Invalid object for {param_name(path)}", param=param_name(path))
        for key, item in (value or {}).items():
            if not isinstance(item, str) or len(key) > 40 or len(item) > 500:
                name = param_name((*path, key))
                raise invalid(f"Invalid metadata value for {name}", param=name)
    elif spec == LIST:
        if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
            raise invalid(f"Invalid array for {param_name(path)}", param=param_name(path))
    elif not isinstance(value, str):
        raise invalid(f"Invalid string for {param_name(path)}", param=param_name(path))


class Params:
    """One request's parameters; each reader raises the 400 Stripe gives for a bad value."""

    def __init__(self, values: dict[str, Any], spec: Spec) -> None:
        check_shape(values, spec)
        self.values = values

    def get(self, *path: str | int) -> Any:
        node: Any = self.values
        for part in path:
            if isinstance(node, dict) and isinstance(part, str):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return None
        return node

    def text(self, *path: str | int, required: bool = False, max_length: int = 5000) -> str | None:
        value = self.get(*path)
        if value is None or value == "":
            if required:
                raise missing(param_name(path))
            return None
        if len(value) > max_length:
            name = param_name(path)
            raise invalid(f"Invalid {name}: must be at most {max_length} characters", param=name)
        return str(value)

    def integer(self, *path: str | int, required: bool = False, minimum: int = 0) -> int | None:
        raw = self.text(*path, required=required)
        if raw is None:
            return None
        name = param_name(path)
        if not re.fullmatch(r"-?\d+", raw):
            raise invalid(f"Invalid integer: {raw}", param=name, code="parameter_invalid_integer")
        if int(raw) < minimum:
            raise invalid(
                f"This value must be greater than or equal to {minimum}.",
                param=name,
                code="parameter_invalid_integer",
            )
        return int(raw)

    def choice(self, *path: str, options: tuple[str, ...], required: bool = False) -> str | None:
        value = self.text(*path, required=required)
        if value is not None and value not in options:
            name = param_name(path)
            raise invalid(f"Invalid {name}: must be one of {', '.join(options)}", param=name)
        return value

    def url(self, *path: str, required: bool = False) -> str | None:
        value = self.text(*path, required=required)
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                raise invalid("Not a valid URL", param=param_name(path), code="url_invalid")
        return value

    def flag(self, *path: str) -> bool | None:
        value = self.choice(*path, options=("true", "false"))
        return None if value is None else value == "true"

    def metadata(self, *path: str | int) -> dict[str, str]:
        value = self.get(*path)
        return dict(value) if isinstance(value, dict) else {}
