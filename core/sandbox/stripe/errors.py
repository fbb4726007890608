"""Stripe's error responses: the ``{"error": ...}`` body, for bad requests, keys and faults."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from praxis.core.sandbox.harness import Fault


class StripeFault(Exception):
    """An error response as Stripe shapes it: ``{"error": {type, message, code, param}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": {"type": kind, "message": message}}
        if code:
            self.body["error"]["code"] = code
            self.body["error"]["doc_url"] = f"https://stripe.com/docs/error-codes/{code}"
        if param:
            self.body["error"]["param"] = param
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeFault:
    return StripeFault(400, message, param=param, code=code)


def missing(param: str) -> StripeFault:
    return invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")


def no_such(kind: str, object_id: str, *, param: str, status: int = 404) -> StripeFault:
    message = f"No such {kind}: '{object_id}'"
    return StripeFault(status, message, param=param, code="resource_missing")


def invalid_version(version: str | None, implemented: str) -> StripeFault:
    """Stripe's answer to a ``Stripe-Version`` it does not know. Stripe would take a missing
    one as the account's default version; the fake has no default, so it refuses that too."""
    if not version:
        return StripeFault(
            400,
            "Invalid Stripe API version: (none). This sandbox has no account default version: "
            f"send a Stripe-Version header (it implements {implemented}).",
        )
    return StripeFault(400, f"Invalid Stripe API version: {version}")


def mask(key: str) -> str:
    """How Stripe quotes a key in an error: its prefix and last four characters."""
    prefix = key[: key.find("_", 3) + 1] if key.count("_") >= 2 else ""
    return prefix + "*" * max(len(key) - len(prefix) - 4, 0) + key[-4:]


def no_access(api_key: str | None, account: str) -> StripeFault:
    key = f"The provided key '{mask(api_key)}'" if api_key else "The provided key"
    return StripeFault(
        403,
        f"{key} does not have access to account '{account}' (or that account does not exist). "
        "Application access may have been revoked.",
        code="account_invalid",
    )


def faulty(fault: Fault) -> Response:
    return _fault_error(fault).response()


def _fault_error(fault: Fault) -> StripeFault:
    """The error an injected fault answers with, in Stripe's shape for its status."""
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
    if fault.status == 429:
        return StripeFault(
            429,
            "Request rate limit exceeded. Learn more about rate limits here: "
            "https://stripe.com/docs/rate-limits.",
            kind="rate_limit_error",
            code="rate_limit",
            headers=headers,
        )
    if fault.status >= 500:
        return StripeFault(
            fault.status,
            "An unknown error occurred. Please try again later.",
            kind="api_error",
            headers=headers,
        )
    if fault.status == 409:
        return StripeFault(
            409,
            "There is currently another in-progress request using this Idempotent Key. "
            "Please try again later.",
            kind="idempotency_error",
            code="idempotency_key_in_use",
            headers=headers,
        )
    return StripeFault(fault.status, "The fake was told to refuse this request.", headers=headers)


def json_response(body: dict[str, Any], status: int, headers: Mapping[str, str]) -> Response:
    return Response(json.dumps(body, indent=2), status, dict(headers), "application/json")
