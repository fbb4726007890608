"""A fake Stripe: Connect accounts, Checkout Sessions, refunds and signed Connect webhooks.

Shaped by the official contract subset (shared/contracts/stripe-connect-checkout.openapi.json
for requests, stripe-objects.fixtures.json for objects) for what ``payments_stripe`` uses, so
the real SDK talks to it over real sockets. Tests run it with ``harness.start(fake.app)``; the
development sandbox mounts ``fake.app`` under a prefix (``/-/sandbox/stripe``), and the hosted
checkout and onboarding pages then live under that prefix too.

Known simplifications: sessions do not expire by themselves (call ``expire``), prices and
customers are not objects of their own, and only ``mode=payment`` is supported.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import html
import json
import queue
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.harness import Delivery, Fault, Faults, Webhooks

DEFAULT_API_VERSION = "2020-08-27"  # the contract's; events carry the last Stripe-Version seen
_SESSION_LIFETIME = (30 * 60, 24 * 3600)  # expires_at bounds after creation, in seconds
_ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg"})
_ALNUM = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def now() -> int:
    return int(time.time())


# --- errors in Stripe's shape -----------------------------------------------------------------


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
        return _json(self.body, self.status, self.headers)


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeFault:
    return StripeFault(400, message, param=param, code=code)


def missing(param: str) -> StripeFault:
    return invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")


def no_such(kind: str, object_id: str, *, param: str, status: int = 404) -> StripeFault:
    message = f"No such {kind}: '{object_id}'"
    return StripeFault(status, message, param=param, code="resource_missing")


def mask(key: str) -> str:
    """How Stripe quotes a key in an error: its prefix and last four characters."""
    prefix = key[: key.find("_", 3) + 1] if key.count("_") >= 2 else ""
    return prefix + "*" * max(len(key) - len(prefix) - 4, 0) + key[-4:]


# --- form bodies in bracket notation ----------------------------------------------------------

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


# --- parameter checks: what the contract says each endpoint accepts ----------------------------

LEAF, ANY, MAP, LIST = "leaf", "any", "map", "list"  # a string, anything, str->str, [str]
Spec = Any  # LEAF | ANY | MAP | LIST | dict[str, Spec] | list[Spec] (an array of objects)


def fields(strings: str = "", *, opaque: str = "", **nested: Spec) -> dict[str, Spec]:
    """A hash of string parameters, parameters the fake accepts unread, and nested ones."""
    return {**dict.fromkeys(strings.split(), LEAF), **dict.fromkeys(opaque.split(), ANY), **nested}


_ACCOUNT_PARAMS = fields(
    "type country email default_currency",
    opaque="account_token bank_account business_profile business_type capabilities company "
    "documents external_account individual settings tos_acceptance",
    metadata=MAP,
    expand=LIST,
)
_ACCOUNT_LINK_PARAMS = fields("account type refresh_url return_url collect", expand=LIST)
_SESSION_PARAMS = fields(
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
_REFUND_PARAMS = fields(
    "payment_intent charge amount reason refund_application_fee reverse_transfer",
    metadata=MAP,
    expand=LIST,
)
_NO_PARAMS = fields(expand=LIST)


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


# --- what tests read back -----------------------------------------------------------------------


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
class _Saved:
    fingerprint: str
    body: dict[str, Any]


@dataclass
class _Call:
    params: dict[str, Any]
    path: dict[str, str]
    account: str | None  # the Stripe-Account header: act as this connected account
    request_id: str
    idempotency_key: str | None
    site: str  # the absolute URL of this app, mount prefix included, for hosted page links


Operation = Callable[["_Call"], dict[str, Any]]


@dataclass
class _Onboarding:
    return_url: str | None
    refresh_url: str | None
    expires_at: int


@dataclass
class _Checkout:
    """What the hosted page needs beyond the session object."""

    description: str
    application_fee_amount: int | None
    payment_intent_metadata: dict[str, str] = field(default_factory=dict)


class FakeStripe:
    """A stateful fake of Stripe's API and hosted pages. ``.app`` is the ASGI app."""

    def __init__(self, *, push: bool = False, api_keys: Iterable[str] = ()) -> None:
        self.push = push  # POST deliveries to the endpoints; otherwise only record them
        self.faults = Faults()
        self.webhooks = Webhooks()
        self.api_keys: set[str] = set(api_keys)
        self.endpoints: list[WebhookEndpoint] = []
        self.refund_status = "succeeded"  # what new refunds start as ("pending": settle later)
        self._lock = threading.RLock()  # the server's thread and the test's share this state
        self._outbox: queue.Queue[tuple[str, dict[str, str], bytes]] = queue.Queue()
        self._pusher: threading.Thread | None = None
        self._in_flight = 0
        self.reset()
        self.app = Starlette(routes=self._routes())

    # --- configuration and state ---------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object, request, fault and delivery; keep API keys and endpoints."""
        with self._lock:
            self.accounts: dict[str, dict[str, Any]] = {}
            self.sessions: dict[str, dict[str, Any]] = {}
            self.payment_intents: dict[str, dict[str, Any]] = {}
            self.charges: dict[str, dict[str, Any]] = {}
            self.refunds: dict[str, dict[str, Any]] = {}
            self.events: dict[str, dict[str, Any]] = {}
            self.requests: list[ReceivedRequest] = []
            self.owner: dict[str, str | None] = {}  # object id -> connected account it lives on
            self.api_version = DEFAULT_API_VERSION
            self._checkouts: dict[str, _Checkout] = {}
            self._onboarding: dict[str, _Onboarding] = {}
            self._saved: dict[tuple[str, str | None, str], _Saved] = {}
            self.faults.clear()
            self.webhooks.clear()

    def add_api_key(self, key: str) -> None:
        self.api_keys.add(key)

    def add_webhook_endpoint(
        self, url: str, secret: str, *, connect: bool = True, events: Iterable[str] = ("*",)
    ) -> WebhookEndpoint:
        endpoint = WebhookEndpoint(url, secret, connect, tuple(events))
        self.endpoints.append(endpoint)
        return endpoint

    def add_account(
        self, account_id: str | None = None, *, ready: bool = True, country: str = "GB"
    ) -> str:
        """A connected account, onboarded (``ready``) or not, without an API call."""
        account = _account(account_id or new_id("acct_", 16), country, "standard", ready)
        with self._lock:
            self.accounts[account["id"]] = account
        return str(account["id"])

    def requests_to(self, method: str, path: str) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # --- what a person does on Stripe's pages (also for tests) ---------------------------------

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        with self._lock:
            account = self.accounts[account_id]
            before = {
                k: account[k] for k in ("charges_enabled", "details_submitted") if not account[k]
            }
            if before:  # Stripe sends account.updated only when something changed
                account.update(_readiness(account_id, ready=True))
                self._emit("account.updated", account, account_id, previous=before)
            return copy.deepcopy(account)

    def pay(self, session_id: str, *, delayed: bool = False) -> dict[str, Any]:
        """The consumer pays; ``delayed``: by bank debit, settled later by ``settle_payment``."""
        with self._lock:
            session = self._open_session(session_id)
            extra = self._checkouts[session_id]
            account = self.owner[session_id]
            intent = {
                "id": new_id("pi_"),
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": 0 if delayed else session["amount_total"],
                "currency": session["currency"],
                "status": "processing" if delayed else "succeeded",
                "application_fee_amount": extra.application_fee_amount,
                "capture_method": "automatic",
                "created": now(),
                "customer": None,
                "description": None,
                "latest_charge": None,
                "livemode": False,
                "metadata": dict(extra.payment_intent_metadata),
                "on_behalf_of": None,
                "payment_method_types": ["card"],
                "transfer_data": None,
            }
            self.payment_intents[intent["id"]] = intent
            self.owner[intent["id"]] = account
            if not delayed:
                self._charge(intent)
            session.update(
                status="complete",
                payment_status="unpaid" if delayed else "paid",
                payment_intent=intent["id"],
                customer_details={"email": session["customer_email"], "name": None},
                url=None,
            )
            self._emit("checkout.session.completed", session, account)
            return copy.deepcopy(session)

    def settle_payment(self, session_id: str, *, succeeded: bool = True) -> dict[str, Any]:
        with self._lock:
            session = self.sessions[session_id]
            intent = self.payment_intents[session["payment_intent"]]
            if succeeded:
                intent.update(status="succeeded", amount_received=intent["amount"])
                self._charge(intent)
                session["payment_status"] = "paid"
            else:
                intent["status"] = "requires_payment_method"
            kind = "succeeded" if succeeded else "failed"
            self._emit(f"checkout.session.async_payment_{kind}", session, self.owner[session_id])
            return copy.deepcopy(session)

    def expire(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self._open_session(session_id)
            session.update(status="expired", url=None)
            self._emit("checkout.session.expired", session, self.owner[session_id])
            return copy.deepcopy(session)

    def settle_refund(self, refund_id: str, status: str = "succeeded") -> dict[str, Any]:
        with self._lock:
            refund = self.refunds[refund_id]
            refund["status"] = status
            self._emit("refund.updated", refund, self.owner[refund_id])
            return copy.deepcopy(refund)

    # --- webhooks --------------------------------------------------------------------------------

    @staticmethod
    def sign(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
        """A ``Stripe-Signature`` header: HMAC-SHA256 of ``"{t}.{payload}"`` with the secret."""
        body = payload.decode() if isinstance(payload, bytes) else payload
        t = now() if timestamp is None else timestamp
        digest = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
        return f"t={t},v1={digest}"

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until no API call is in flight (a slow fault) and every push has been answered."""
        deadline = time.monotonic() + timeout
        while (self._in_flight or self._outbox.unfinished_tasks) and time.monotonic() < deadline:
            time.sleep(0.01)

    def _emit(
        self,
        kind: str,
        item: dict[str, Any],
        account: str | None,
        *,
        call: _Call | None = None,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        endpoints = [
            e
            for e in self.endpoints
            if e.connect == (account is not None) and ("*" in e.events or kind in e.events)
        ]
        event: dict[str, Any] = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": self.api_version,
            "created": now(),
            "data": {"object": copy.deepcopy(item)},
            "livemode": False,
            "pending_webhooks": len(endpoints),
            "request": {
                "id": call.request_id if call else None,
                "idempotency_key": call.idempotency_key if call else None,
            },
            "type": kind,
        }
        if previous is not None:
            event["data"]["previous_attributes"] = previous
        if account is not None:
            event["account"] = account  # Connect events say whose they are
        self.events[event["id"]] = event
        self.owner[event["id"]] = account
        body = json.dumps(event, indent=2).encode()
        for endpoint in endpoints:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": self.sign(body, endpoint.secret),
            }
            if self.push:
                self._push(endpoint.url, headers, body)
            else:
                self.webhooks.deliveries.append(Delivery(endpoint.url, headers, body))
        return event

    def _push(self, url: str, headers: dict[str, str], body: bytes) -> None:
        """Deliver after the API call has answered, in order, as Stripe does: from a thread."""
        self._outbox.put((url, headers, body))
        if self._pusher is None or not self._pusher.is_alive():
            self._pusher = threading.Thread(target=self._deliver_forever, daemon=True)
            self._pusher.start()

    def _deliver_forever(self) -> None:
        while True:
            url, headers, body = self._outbox.get()
            try:
                asyncio.run(self.webhooks.deliver(url, headers, body))
            finally:
                self._outbox.task_done()

    # --- the API ---------------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        api: list[tuple[str, str, Operation]] = [
            ("POST", "/v1/accounts", self._create_account),
            ("GET", "/v1/accounts/{account}", self._retrieve_account),
            ("POST", "/v1/account_links", self._create_account_link),
            ("POST", "/v1/checkout/sessions", self._create_session),
            ("GET", "/v1/checkout/sessions/{session}", self._retrieve_session),
            ("POST", "/v1/checkout/sessions/{session}/expire", self._expire_session),
            ("POST", "/v1/refunds", self._create_refund),
            ("GET", "/v1/events/{id}", self._retrieve_event),
        ]
        routes = [Route(path, self._endpoint(op), methods=[method]) for method, path, op in api]
        every = ["GET", "POST", "DELETE", "PUT", "PATCH"]
        routes.append(Route("/v1/{rest:path}", self._endpoint(self._unrecognized), methods=every))
        routes += [
            Route("/checkout/{session}", self._checkout_page, methods=["GET"]),
            Route("/checkout/{session}/{action}", self._checkout_action, methods=["POST"]),
            Route("/onboarding/{account}", self._onboarding_page, methods=["GET"]),
            Route("/onboarding/{account}/complete", self._onboarding_done, methods=["POST"]),
        ]
        return routes

    def _endpoint(self, operation: Operation) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return await self._handle(request, operation)

        return endpoint

    async def _handle(self, request: Request, operation: Operation) -> Response:
        with self._lock:
            self._in_flight += 1
        try:
            return await self._answer(request, operation)
        finally:
            with self._lock:
                self._in_flight -= 1

    async def _answer(self, request: Request, operation: Operation) -> Response:
        request_id = new_id("req_", 14)
        faulty = await self.faults.inject(request, {}, respond=_faulty)
        if faulty is not None:
            return self._recorded(request, {}, faulty, request_id)
        body = await request.body()
        params: dict[str, Any] = {}
        try:
            form = body.decode() if request.method == "POST" else request.url.query
            params = decode_form(parse_qsl(form, keep_blank_values=True))
            result, replayed = self._run(request, params, request_id, operation)
            response = _json(result, 200, {"Idempotent-Replayed": "true"} if replayed else {})
        except StripeFault as refused:
            response = refused.response()
        if key := request.headers.get("idempotency-key"):
            response.headers["Idempotency-Key"] = key
        return self._recorded(request, params, response, request_id)

    def _recorded(
        self, request: Request, params: dict[str, Any], response: Response, request_id: str
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
        with self._lock:
            self.requests.append(received)
        return response

    def _run(
        self, request: Request, params: dict[str, Any], request_id: str, operation: Operation
    ) -> tuple[dict[str, Any], bool]:
        api_key = self._authenticate(request.headers.get("authorization", ""))
        key = request.headers.get("idempotency-key") or None
        account = request.headers.get("stripe-account") or None
        site = f"{request.url.scheme}://{request.url.netloc}{_root(request)}"
        call = _Call(params, dict(request.path_params), account, request_id, key, site)
        fingerprint = json.dumps([request.method, request.url.path, params], sort_keys=True)
        with self._lock:
            self.api_version = request.headers.get("stripe-version", self.api_version)
            if account is not None and account not in self.accounts:
                raise _no_access(api_key, account)
            scope = (api_key, account, key or "")
            saved = self._saved.get(scope) if key and request.method == "POST" else None
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
            result = operation(call)
            if key and request.method == "POST":
                self._saved[scope] = _Saved(fingerprint, copy.deepcopy(result))
            return result, False

    def _authenticate(self, authorization: str) -> str:
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
        if key not in self.api_keys:
            raise StripeFault(401, f"Invalid API Key provided: {mask(key)}")
        return key

    def _unrecognized(self, call: _Call) -> dict[str, Any]:
        raise StripeFault(
            404,
            f"Unrecognized request URL (/v1/{call.path['rest']}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )

    # accounts ---------------------------------------------------------------------------------

    def _create_account(self, call: _Call) -> dict[str, Any]:
        params = Params(call.params, _ACCOUNT_PARAMS)
        kind = params.choice("type", options=("custom", "express", "standard")) or "standard"
        country = params.text("country") or "US"
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise invalid(
                f"Country '{country}' is unknown. Try using a 2-character alphanumeric "
                "country code instead, such as 'US', 'EG', or 'GB'.",
                param="country",
            )
        account = _account(new_id("acct_", 16), country, kind, False)
        account["email"] = params.text("email")
        account["metadata"] = params.metadata("metadata")
        self.accounts[account["id"]] = account
        return copy.deepcopy(account)

    def _retrieve_account(self, call: _Call) -> dict[str, Any]:
        Params(call.params, _NO_PARAMS)
        account_id = call.path["account"]
        if account_id not in self.accounts:
            raise _no_access(None, account_id)
        return copy.deepcopy(self.accounts[account_id])

    def _create_account_link(self, call: _Call) -> dict[str, Any]:
        params = Params(call.params, _ACCOUNT_LINK_PARAMS)
        account_id = params.text("account", required=True) or ""
        params.choice("type", options=("account_onboarding", "account_update"), required=True)
        params.choice("collect", options=("currently_due", "eventually_due"))
        return_url, refresh_url = params.url("return_url"), params.url("refresh_url")
        if account_id not in self.accounts:
            raise no_such("account", account_id, param="account", status=400)
        created = now()
        self._onboarding[account_id] = _Onboarding(return_url, refresh_url, created + 300)
        return {
            "object": "account_link",
            "created": created,
            "expires_at": created + 300,
            "url": f"{call.site}/onboarding/{account_id}",
        }

    # checkout sessions ------------------------------------------------------------------------

    def _create_session(self, call: _Call) -> dict[str, Any]:
        params = Params(call.params, _SESSION_PARAMS)
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
        created = now()
        expires_at = params.integer("expires_at")
        if expires_at is not None and not (
            created + _SESSION_LIFETIME[0] - 5 <= expires_at <= created + _SESSION_LIFETIME[1]
        ):
            raise invalid(
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                "Checkout Session creation.",
                param="expires_at",
            )
        email = params.text("customer_email")
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise invalid("Invalid email address", param="customer_email", code="email_invalid")
        if call.account is not None and not self.accounts[call.account]["charges_enabled"]:
            raise invalid(
                "This account cannot currently make charges: its onboarding is incomplete.",
                code="account_invalid",
            )
        session_id = new_id("cs_test_", 58)
        session = _session(session_id, currency, total, created)
        session.update(
            cancel_url=cancel_url,
            success_url=success_url,
            client_reference_id=params.text("client_reference_id", max_length=200),
            customer_email=email,
            expires_at=expires_at or created + _SESSION_LIFETIME[1],
            metadata=params.metadata("metadata"),
            url=f"{call.site}/checkout/{session_id}",
        )
        self.sessions[session_id] = session
        self.owner[session_id] = call.account
        self._checkouts[session_id] = _Checkout(
            ", ".join(names), fee, params.metadata("payment_intent_data", "metadata")
        )
        return copy.deepcopy(session)

    def _retrieve_session(self, call: _Call) -> dict[str, Any]:
        Params(call.params, _NO_PARAMS)
        return copy.deepcopy(self._session_of(call))

    def _expire_session(self, call: _Call) -> dict[str, Any]:
        Params(call.params, _NO_PARAMS)
        session = self._session_of(call)
        if session["status"] != "open":
            raise invalid(
                'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
                f'Session has a status of "{session["status"]}".'
            )
        return self.expire(session["id"])

    def _session_of(self, call: _Call) -> dict[str, Any]:
        session_id = call.path["session"]
        if session_id not in self.sessions or self.owner[session_id] != call.account:
            raise no_such("checkout.session", session_id, param="session")
        return self.sessions[session_id]

    def _open_session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        if session["status"] != "open":
            raise ValueError(f"checkout session {session_id} is {session['status']}, not open")
        return session

    def _charge(self, intent: dict[str, Any]) -> None:
        charge = {
            "id": new_id("ch_"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"],
            "amount_refunded": 0,
            "application_fee_amount": intent["application_fee_amount"],
            "captured": True,
            "created": now(),
            "currency": intent["currency"],
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "paid": True,
            "payment_intent": intent["id"],
            "refunded": False,
            "status": "succeeded",
        }
        self.charges[charge["id"]] = charge
        self.owner[charge["id"]] = self.owner[intent["id"]]
        intent["latest_charge"] = charge["id"]

    # refunds ----------------------------------------------------------------------------------

    def _create_refund(self, call: _Call) -> dict[str, Any]:
        params = Params(call.params, _REFUND_PARAMS)
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
        charge = self._charge_to_refund(call, intent_id, charge_id)
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
        refund = {
            "id": new_id("re_"),
            "object": "refund",
            "amount": amount or left,
            "balance_transaction": None,
            "charge": charge["id"],
            "created": now(),
            "currency": charge["currency"],
            "metadata": params.metadata("metadata"),
            "payment_intent": charge["payment_intent"],
            "reason": params.text("reason"),
            "receipt_number": None,
            "status": self.refund_status,
        }
        charge["amount_refunded"] += refund["amount"]
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self.refunds[refund["id"]] = refund
        self.owner[refund["id"]] = call.account
        self._emit("refund.created", refund, call.account, call=call)
        self._emit("charge.refunded", charge, call.account, call=call)
        return copy.deepcopy(refund)

    def _charge_to_refund(
        self, call: _Call, intent_id: str | None, charge_id: str | None
    ) -> dict[str, Any]:
        if intent_id:
            intent = self.payment_intents.get(intent_id)
            if intent is None or self.owner[intent_id] != call.account:
                raise no_such("payment_intent", intent_id, param="payment_intent", status=400)
            if intent["latest_charge"] is None:
                raise invalid(
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to "
                    "refund.",
                    param="payment_intent",
                )
            return self.charges[intent["latest_charge"]]
        assert charge_id is not None
        if charge_id not in self.charges or self.owner[charge_id] != call.account:
            raise no_such("charge", charge_id, param="charge", status=400)
        return self.charges[charge_id]

    # events -----------------------------------------------------------------------------------

    def _retrieve_event(self, call: _Call) -> dict[str, Any]:
        Params(call.params, _NO_PARAMS)
        event_id = call.path["id"]
        if event_id not in self.events or self.owner[event_id] != call.account:
            raise no_such("event", event_id, param="id")
        return copy.deepcopy(self.events[event_id])

    # --- the pages a person sees -------------------------------------------------------------

    async def _checkout_page(self, request: Request) -> Response:
        session_id = request.path_params["session"]
        with self._lock:
            session = copy.deepcopy(self.sessions.get(session_id))
            extra = self._checkouts.get(session_id)
        if session is None or extra is None:
            return _page("Checkout not found", "<p>There is no such checkout session.</p>", 404)
        price = html.escape(_money(session["amount_total"], session["currency"]))
        what = html.escape(extra.description)
        if session["status"] == "open":
            action = html.escape(f"{_root(request)}/checkout/{session_id}")
            body = (
                f"<p>You are paying <strong>{price}</strong> for {what}.</p>"
                "<p>No card details are asked for: this is a stand-in for Stripe's page.</p>"
                f'<form method="post" action="{action}/pay"><button>Pay {price}</button></form>'
                f'<form method="post" action="{action}/cancel"><button>Cancel</button></form>'
                f'<form method="post" action="{action}/expire">'
                "<button>Let it expire</button></form>"
            )
            return _page("Pay for your consultation", body)
        if session["status"] == "complete":
            back = html.escape(_success_url(session))
            paid = "is paid" if session["payment_status"] == "paid" else "is being processed"
            body = (
                f'<p>{price} for {what} {paid}.</p><p><a href="{back}">Back to the clinic</a></p>'
            )
            return _page("Paid", body)
        back = html.escape(session["cancel_url"])
        body = f'<p>This checkout has expired.</p><p><a href="{back}">Back to the clinic</a></p>'
        return _page("Checkout expired", body)

    async def _checkout_action(self, request: Request) -> Response:
        session_id, action = request.path_params["session"], request.path_params["action"]
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None or action not in {"pay", "cancel", "expire"}:
                return _page("Not found", "<p>There is no such page.</p>", 404)
            page = f"{_root(request)}/checkout/{session_id}"
            if action == "cancel":
                return RedirectResponse(session["cancel_url"], 303)
            if session["status"] != "open":
                return RedirectResponse(page, 303)
            if action == "expire":
                self.expire(session_id)
                return RedirectResponse(page, 303)
            self.pay(session_id)
            return RedirectResponse(_success_url(session), 303)

    async def _onboarding_page(self, request: Request) -> Response:
        account_id = request.path_params["account"]
        with self._lock:
            account = copy.deepcopy(self.accounts.get(account_id))
            link = self._onboarding.get(account_id)
        if account is None:
            return _page("Account not found", "<p>There is no such account.</p>", 404)
        if link is not None and link.refresh_url and link.expires_at < now():
            return RedirectResponse(link.refresh_url, 303)  # an expired link, as Stripe does
        done = "is complete" if account["details_submitted"] else "is not complete yet"
        action = html.escape(f"{_root(request)}/onboarding/{account_id}/complete")
        body = (
            f"<p>Connected account <code>{html.escape(account_id)}</code>: onboarding {done}.</p>"
            "<p>No identity or bank details are asked for here.</p>"
            f'<form method="post" action="{action}"><button>Complete onboarding</button></form>'
        )
        return _page("Set up payments", body)

    async def _onboarding_done(self, request: Request) -> Response:
        account_id = request.path_params["account"]
        with self._lock:
            if account_id not in self.accounts:
                return _page("Account not found", "<p>There is no such account.</p>", 404)
            self.complete_onboarding(account_id)
            link = self._onboarding.get(account_id)
        if link is not None and link.return_url:
            return RedirectResponse(link.return_url, 303)
        return _page("Onboarding complete", "<p>You can close this page.</p>")


# --- object shapes (after the fixtures) ---------------------------------------------------------


def _account(account_id: str, country: str, kind: str, ready: bool) -> dict[str, Any]:
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
        **_readiness(account_id, ready=ready),
    }


def _readiness(account_id: str, *, ready: bool) -> dict[str, Any]:
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


def _session(session_id: str, currency: str, total: int, created: int) -> dict[str, Any]:
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


# --- helpers ------------------------------------------------------------------------------------


def _faulty(fault: Fault) -> Response:
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


def _no_access(api_key: str | None, account: str) -> StripeFault:
    key = f"The provided key '{mask(api_key)}'" if api_key else "The provided key"
    return StripeFault(
        403,
        f"{key} does not have access to account '{account}' (or that account does not exist). "
        "Application access may have been revoked.",
        code="account_invalid",
    )


def _json(body: dict[str, Any], status: int, headers: Mapping[str, str]) -> Response:
    return Response(json.dumps(body, indent=2), status, dict(headers), "application/json")


def _root(request: Request) -> str:
    """Where this app is mounted (``/-/sandbox/stripe``, or nothing when served at the root)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _success_url(session: dict[str, Any]) -> str:
    return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])


def _money(amount: int, currency: str) -> str:
    if currency in _ZERO_DECIMAL:
        return f"{currency.upper()} {amount}"
    return f"{currency.upper()} {amount / 100:.2f}"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A plain page: no scripts, no inline styles (the host's CSP forbids both)."""
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} - Stripe sandbox</title></head><body>"
        "<p><strong>Sandbox: no real money.</strong> This page stands in for Stripe; "
        "nothing is charged and nothing is sent to Stripe.</p>"
        f"<main><h1>{html.escape(title)}</h1>{body}</main></body></html>",
        status,
    )
