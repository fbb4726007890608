"""FakeStripe: the state, what a person does on Stripe's pages, and the events it sends."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from starlette.applications import Starlette

from praxis.core.sandbox.harness import Delivery, Faults, Webhooks
from praxis.core.sandbox.stripe import api, objects, pages
from praxis.core.sandbox.stripe.api import API_VERSION
from praxis.core.sandbox.stripe.objects import new_id, now
from praxis.core.sandbox.stripe.state import (
    Call,
    Checkout,
    Onboarding,
    ReceivedRequest,
    Saved,
    WebhookEndpoint,
)


class FakeStripe:
    """A stateful fake of Stripe's API and hosted pages. ``.app`` is the ASGI app."""

    def __init__(self, *, push: bool = False, api_keys: Iterable[str] = ()) -> None:
        self.push = push  # POST deliveries to the endpoints; otherwise only record them
        self.faults = Faults()
        self.webhooks = Webhooks()
        self.api_keys: set[str] = set(api_keys)
        self.endpoints: list[WebhookEndpoint] = []
        self._lock = threading.RLock()  # the server's thread and the test's share this state
        self._outbox: queue.Queue[tuple[str, dict[str, str], bytes]] = queue.Queue()
        self._pusher: threading.Thread | None = None
        self._in_flight = 0
        self.reset()
        self.app = Starlette(routes=[*api.routes(self), *pages.routes(self)])

    # --- configuration and state ---------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object, request, fault and delivery, and put the clock right; keep API
        keys and endpoints."""
        with self._lock:
            self.accounts: dict[str, dict[str, Any]] = {}
            self.sessions: dict[str, dict[str, Any]] = {}
            self.payment_intents: dict[str, dict[str, Any]] = {}
            self.charges: dict[str, dict[str, Any]] = {}
            self.refunds: dict[str, dict[str, Any]] = {}
            self.events: dict[str, dict[str, Any]] = {}
            self.requests: list[ReceivedRequest] = []
            self.owner: dict[str, str | None] = {}  # object id -> connected account it lives on
            self.api_version = API_VERSION
            self.refund_status = "succeeded"  # what new refunds start as ("pending": later)
            self.clock: Callable[[], float] = time.time  # Stripe's clock: tests may stop it
            self._offset = 0.0
            self._late: list[float] = []  # answers to delay after acting (lost answers)
            self._checkouts: dict[str, Checkout] = {}
            self._onboarding: dict[str, Onboarding] = {}
            self._saved: dict[tuple[str, str | None, str], Saved] = {}
            self.faults.clear()
            self.webhooks.clear()

    def add_api_key(self, key: str) -> None:
        self.api_keys.add(key)

    def now(self) -> int:
        """Stripe's time, in seconds since the epoch: the wall clock, moved by ``advance``."""
        return int(self.clock() + self._offset)

    def advance(self, seconds: float) -> None:
        """Move Stripe's clock on (a day later: ``advance(24 * 3600)``); ``reset`` undoes it."""
        with self._lock:
            self._offset += seconds

    def lose_next_response(self, count: int = 1, *, delay: float = 3.0) -> None:
        """The next ``count`` API calls act, then answer only after ``delay`` seconds: longer
        than a client waits, so the request arrived but its answer is lost."""
        with self._lock:
            self._late.extend([delay] * count)

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
        account_id = account_id or new_id("acct_", 16)
        account = objects.account(account_id, country, "standard", ready, created=self.now())
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
                account.update(objects.readiness(account_id, ready=True))
                self._emit("account.updated", account, account_id, previous=before)
            return copy.deepcopy(account)

    def pay(self, session_id: str, *, delayed: bool = False) -> dict[str, Any]:
        """The consumer pays; ``delayed``: by bank debit, settled later by ``settle_payment``."""
        with self._lock:
            session = self._open_session(session_id)
            extra = self._checkouts[session_id]
            account = self.owner[session_id]
            intent = objects.payment_intent(
                new_id("pi_"),
                amount=session["amount_total"],
                currency=session["currency"],
                application_fee_amount=extra.application_fee_amount,
                metadata=extra.payment_intent_metadata,
                created=self.now(),
                delayed=delayed,
            )
            self.payment_intents[intent["id"]] = intent
            self.owner[intent["id"]] = account
            if not delayed:
                self._charge(intent)
            session.update(
                status="complete",
                payment_status="unpaid" if delayed else "paid",
                payment_intent=intent["id"],
                customer_details=objects.customer_details(session["customer_email"]),
                collected_information=objects.collected_information(),
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
            listed = self.charges[refund["charge"]]["refunds"]["data"]
            listed[:] = [copy.deepcopy(refund) if r["id"] == refund_id else r for r in listed]
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
        call: Call | None = None,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        endpoints = [
            e
            for e in self.endpoints
            if e.connect == (account is not None) and ("*" in e.events or kind in e.events)
        ]
        event = objects.event(
            kind,
            copy.deepcopy(item),
            api_version=self.api_version,
            created=self.now(),
            pending_webhooks=len(endpoints),
            request_id=call.request_id if call else None,
            idempotency_key=call.idempotency_key if call else None,
        )
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
                "Stripe-Signature": self.sign(body, endpoint.secret, self.now()),
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

    # --- a session's payment ----------------------------------------------------------------------

    def _open_session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        if session["status"] != "open":
            raise ValueError(f"checkout session {session_id} is {session['status']}, not open")
        return session

    def _charge(self, intent: dict[str, Any]) -> None:
        charge = objects.charge(new_id("ch_"), intent, created=self.now())
        self.charges[charge["id"]] = charge
        self.owner[charge["id"]] = self.owner[intent["id"]]
        intent["latest_charge"] = charge["id"]
