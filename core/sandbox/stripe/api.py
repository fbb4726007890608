"""The API's plumbing: routes, faults, API keys, versions, ``Stripe-Account``, idempotency, the
log."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from praxis.core.sandbox.stripe import operations
from praxis.core.sandbox.stripe.errors import (
    StripeFault,
    faulty,
    invalid_version,
    json_response,
    mask,
    no_access,
)
from praxis.core.sandbox.stripe.objects import new_id
from praxis.core.sandbox.stripe.pages import root
from praxis.core.sandbox.stripe.params import decode_form
from praxis.core.sandbox.stripe.state import Call, ReceivedRequest, Saved

if TYPE_CHECKING:
    from praxis.core.sandbox.stripe.fake import FakeStripe

Operation = Callable[["FakeStripe", Call], dict[str, Any]]

# The API version the fake implements: its objects are those of stripe-objects.fixtures.json
# as Stripe sends them at this version. Every request must name it in ``Stripe-Version``
# (Stripe itself would fall back to the account's default version: the fake has none, so code
# that forgets to pin its version fails here, not in production). Events carry it too. The
# payments_stripe plugin pins the same one (its STRIPE_API_VERSION).
API_VERSION = "2026-10-28.endive"
API_VERSIONS = frozenset({API_VERSION})
# Stripe keeps a key's answer for at least 24 hours and may forget it after: the fake forgets
# it at exactly 24 hours on its own clock (``FakeStripe.advance`` moves it), the strictest case.
IDEMPOTENCY_WINDOW = 24 * 3600

OPERATIONS: list[tuple[str, str, Operation]] = [
    ("POST", "/v1/accounts", operations.create_account),
    ("GET", "/v1/accounts/{account}", operations.retrieve_account),
    ("POST", "/v1/account_links", operations.create_account_link),
    ("POST", "/v1/checkout/sessions", operations.create_session),
    ("GET", "/v1/checkout/sessions/{session}", operations.retrieve_session),
    ("POST", "/v1/checkout/sessions/{session}/expire", operations.expire_session),
    ("POST", "/v1/refunds", operations.create_refund),
    ("GET", "/v1/refunds", operations.list_refunds),
    ("GET", "/v1/events/{id}", operations.retrieve_event),
]


def routes(fake: FakeStripe) -> list[Route]:
    """Every operation, then a 404 in Stripe's words for any other ``/v1`` URL."""
    found = [
        Route(path, partial(_handle, fake, op), methods=[method]) for method, path, op in OPERATIONS
    ]
    every = ["GET", "POST", "DELETE", "PUT", "PATCH"]
    found.append(Route("/v1/{rest:path}", partial(_handle, fake, _unrecognized), methods=every))
    return found


async def _handle(fake: FakeStripe, operation: Operation, request: Request) -> Response:
    with fake._lock:
        fake._in_flight += 1
    try:
        return await _answer(fake, request, operation)
    finally:
        with fake._lock:
            fake._in_flight -= 1


async def _answer(fake: FakeStripe, request: Request, operation: Operation) -> Response:
    request_id = new_id("req_", 14)
    injected = await fake.faults.inject(request, {}, respond=faulty)
    if injected is not None:
        return _recorded(fake, request, {}, injected, request_id)
    with fake._lock:
        late = fake._late.pop(0) if fake._late else None
    body = await request.body()
    params: dict[str, Any] = {}
    try:
        form = body.decode() if request.method == "POST" else request.url.query
        params = decode_form(parse_qsl(form, keep_blank_values=True))
        result, replayed = _run(fake, request, params, request_id, operation)
        response = json_response(result, 200, {"Idempotent-Replayed": "true"} if replayed else {})
    except StripeFault as refused:
        response = refused.response()
    if key := request.headers.get("idempotency-key"):
        response.headers["Idempotency-Key"] = key
    recorded = _recorded(fake, request, params, response, request_id)
    if late is not None:
        await asyncio.sleep(late)  # done, but answered after the client stopped waiting
    return recorded


def _recorded(
    fake: FakeStripe,
    request: Request,
    params: dict[str, Any],
    response: Response,
    request_id: str,
) -> Response:
    response.headers["Request-Id"] = request_id
    path = request.scope["path"].removeprefix(request.scope.get("root_path", ""))
    replayed = response.headers.get("idempotent-replayed") == "true"
    received = ReceivedRequest(
        request.method,
        path,
        dict(request.headers.items()),
        params,
        response.status_code,
        replayed,
    )
    with fake._lock:
        fake.requests.append(received)
    return response


def _run(
    fake: FakeStripe,
    request: Request,
    params: dict[str, Any],
    request_id: str,
    operation: Operation,
) -> tuple[dict[str, Any], bool]:
    api_key = _authenticate(fake, request.headers.get("authorization", ""))
    version = request.headers.get("stripe-version")
    if version not in API_VERSIONS:
        raise invalid_version(version, API_VERSION)
    key = request.headers.get("idempotency-key") or None
    account = request.headers.get("stripe-account") or None
    site = f"{request.url.scheme}://{request.url.netloc}{root(request)}"
    call = Call(params, dict(request.path_params), account, request_id, key, site)
    fingerprint = json.dumps([request.method, request.url.path, params], sort_keys=True)
    with fake._lock:
        if account is not None and account not in fake.accounts:
            raise no_access(api_key, account)
        scope = (api_key, account, key or "")
        saved = fake._saved.get(scope) if key and request.method == "POST" else None
        if saved is not None and fake.now() - saved.at >= IDEMPOTENCY_WINDOW:
            del fake._saved[scope]  # forgotten: the same key now makes a new request
            saved = None
        if saved is not None:
            if saved.fingerprint != fingerprint:
                raise StripeFault(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request.",
                    kind="idempotency_error",
                )
            return copy.deepcopy(saved.body), True
        result = operation(fake, call)
        if key and request.method == "POST":
            fake._saved[scope] = Saved(fingerprint, copy.deepcopy(result), fake.now())
        return result, False


def _authenticate(fake: FakeStripe, authorization: str) -> str:
    scheme, _, credentials = authorization.partition(" ")
    key = credentials.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key).decode().partition(":")[0]
        except ValueError:
            key = ""
    if not key:
        raise StripeFault(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY').",
        )
    if key not in fake.api_keys:
        raise StripeFault(401, f"Invalid API Key provided: {mask(key)}")
    return key


def _unrecognized(fake: FakeStripe, call: Call) -> dict[str, Any]:
    raise StripeFault(
        404,
        f"Unrecognized request URL (/v1/{call.path['rest']}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
    )
