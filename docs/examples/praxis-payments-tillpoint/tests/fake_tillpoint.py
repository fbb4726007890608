"""A fake of Tillpoint's API, as its documentation describes it, for the plugin's tests.

Connected accounts, hosted checkouts, payments and refunds in memory; idempotency keys
honoured (and forgettable, as Tillpoint forgets them after 24 hours); signed webhooks to
each account's URL. ``python tests/fake_tillpoint.py PORT`` serves it for the sandbox, with
the pages a person would see: finishing an account, and paying.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from praxis.core.testing import Delivery, Faults, Webhooks
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class Account:
    id: str
    country: str
    webhook_url: str
    return_url: str = ""  # where the onboarding page sends the clinic back
    charges_enabled: bool = False
    details_submitted: bool = False


@dataclass
class Checkout:
    id: str
    account: str
    reference: str
    amount: int
    currency: str
    customer_email: str | None
    success_url: str
    cancel_url: str
    expires_at: int
    platform_fee: int
    url: str
    status: str = "open"  # open, paid, expired
    payment: str | None = None


@dataclass
class Refund:
    id: str
    account: str
    payment: str
    amount: int
    reference: str
    status: str = "succeeded"


@dataclass
class State:
    accounts: dict[str, Account] = field(default_factory=dict)
    checkouts: dict[str, Checkout] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> body


class FakeTillpoint:
    """Tillpoint for one platform account; ``push=True`` POSTs webhooks (the sandbox)."""

    def __init__(self, *, secret_key: str, webhook_secret: str, push: bool = False) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.push = push
        self.faults = Faults()
        self.webhooks = Webhooks()
        self.state = State()
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/v1/accounts", self._create_account, methods=["POST"]),
                Route("/v1/accounts/{id}/onboarding_links", self._link, methods=["POST"]),
                Route("/v1/checkouts", self._create_checkout, methods=["POST"]),
                Route("/v1/checkouts/{id}/expire", self._expire, methods=["POST"]),
                Route("/v1/refunds", self._create_refund, methods=["POST"]),
                Route("/v1/refunds", self._list_refunds, methods=["GET"]),
                Route("/onboard/{id}", self._onboard_page, methods=["GET", "POST"]),
                Route("/pay/{id}", self._pay_page, methods=["GET", "POST"]),
            ]
        )

    def reset(self) -> None:
        with self._lock:
            self.state = State()
        self.faults.clear()
        self.webhooks.clear()

    def forget_idempotency_keys(self) -> None:
        """What Tillpoint does after 24 hours."""
        with self._lock:
            self.state.answers.clear()

    # --- what a person (or a test) does on Tillpoint's pages ---------------------------------

    async def finish_onboarding(self, account_id: str) -> Delivery:
        account = self.state.accounts[account_id]
        account.charges_enabled = account.details_submitted = True
        data = {"charges_enabled": True, "details_submitted": True}
        return await self._event("account.updated", account, data)

    async def pay(self, checkout_id: str) -> Delivery:
        checkout = self.state.checkouts[checkout_id]
        checkout.status, checkout.payment = "paid", "pay_" + secrets.token_hex(8)
        return await self._event(
            "checkout.paid", self.state.accounts[checkout.account], _paid(checkout)
        )

    def signed(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        t = int(time.time()) if timestamp is None else timestamp
        signed = f"{t}.".encode() + body
        mac = hmac.new(self.webhook_secret.encode(), signed, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "Tillpoint-Signature": f"t={t},v1={mac}"}

    # --- the API -----------------------------------------------------------------------------

    async def _create_account(self, request: Request) -> Response:
        def create(body: dict[str, Any]) -> dict[str, Any]:
            account = Account("acct_" + secrets.token_hex(8), body["country"], body["webhook_url"])
            self.state.accounts[account.id] = account
            return _account(account)

        return await self._api(request, create, idempotent=True)

    async def _link(self, request: Request) -> Response:
        def link(body: dict[str, Any]) -> dict[str, Any]:
            account_id = request.path_params["id"]
            if account_id not in self.state.accounts:
                raise Missing
            self.state.accounts[account_id].return_url = body["return_url"]
            url = f"{str(request.base_url).rstrip('/')}/onboard/{account_id}"
            return {"url": url, "expires_at": int(time.time()) + 300}

        return await self._api(request, link)

    async def _create_checkout(self, request: Request) -> Response:
        def create(body: dict[str, Any]) -> dict[str, Any]:
            checkout_id = "chk_" + secrets.token_hex(8)
            checkout = Checkout(
                id=checkout_id,
                account=request.headers["tillpoint-account"],
                reference=body["reference"],
                amount=body["amount"],
                currency=body["currency"],
                customer_email=body.get("customer_email"),
                success_url=body["success_url"],
                cancel_url=body["cancel_url"],
                expires_at=body["expires_at"],
                platform_fee=body.get("platform_fee", 0),
                url=f"{str(request.base_url).rstrip('/')}/pay/{checkout_id}",
            )
            self.state.checkouts[checkout_id] = checkout
            return asdict(checkout)

        return await self._api(request, create, idempotent=True, on_account=True)

    async def _expire(self, request: Request) -> Response:
        def expire(body: dict[str, Any]) -> dict[str, Any]:
            checkout = self.state.checkouts.get(request.path_params["id"])
            if checkout is None or checkout.account != request.headers["tillpoint-account"]:
                raise Missing
            if checkout.status != "open":
                raise Conflict("checkout_not_open")
            checkout.status = "expired"
            return asdict(checkout)

        return await self._api(request, expire, on_account=True)

    async def _create_refund(self, request: Request) -> Response:
        def create(body: dict[str, Any]) -> dict[str, Any]:
            refund = Refund(
                id="re_" + secrets.token_hex(8),
                account=request.headers["tillpoint-account"],
                payment=body["payment"],
                amount=body["amount"],
                reference=body.get("reference", ""),
            )
            self.state.refunds[refund.id] = refund
            return asdict(refund)

        return await self._api(request, create, idempotent=True, on_account=True)

    async def _list_refunds(self, request: Request) -> Response:
        def listing(body: dict[str, Any]) -> dict[str, Any]:
            payment, account = (
                request.query_params.get("payment"),
                request.headers["tillpoint-account"],
            )
            found = [
                asdict(r)
                for r in self.state.refunds.values()
                if r.payment == payment and r.account == account
            ]
            return {"refunds": found}

        return await self._api(request, listing, on_account=True)

    async def _api(
        self,
        request: Request,
        act: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        idempotent: bool = False,
        on_account: bool = False,
    ) -> Response:
        """Faults, the key, the account header, the idempotency key, then ``act``."""
        fault = await self.faults.inject(request, {"error": {"code": "unavailable"}})
        if fault is not None:
            return fault
        if request.headers.get("authorization") != f"Bearer {self.secret_key}":
            return _error(401, "invalid_api_key")
        if on_account and request.headers.get("tillpoint-account") not in self.state.accounts:
            return _error(403, "unknown_account")
        raw = await request.body()
        body = json.loads(raw) if raw else {}
        key = request.headers.get("idempotency-key", "") if idempotent else ""
        with self._lock:
            if key in self.state.answers:
                replayed = {"Idempotent-Replayed": "true"}
                return JSONResponse(self.state.answers[key], headers=replayed)
            try:
                answer = act(body)
            except Missing:
                return _error(404, "not_found")
            except Conflict as conflict:
                return _error(409, str(conflict))
            if key:
                self.state.answers[key] = answer
        return JSONResponse(answer, status_code=201 if idempotent else 200)

    # --- the pages ---------------------------------------------------------------------------

    async def _onboard_page(self, request: Request) -> Response:
        account = self.state.accounts[request.path_params["id"]]
        if request.method == "POST":
            await self.finish_onboarding(account.id)
            return RedirectResponse(account.return_url or "/", status_code=303)
        return HTMLResponse(
            "<h1>Tillpoint: finish your account</h1>"
            '<form method="post"><button>Finish (fake)</button></form>'
        )

    async def _pay_page(self, request: Request) -> Response:
        checkout = self.state.checkouts[request.path_params["id"]]
        if request.method == "POST":
            await self.pay(checkout.id)
            return RedirectResponse(checkout.success_url, status_code=303)
        amount = f"{checkout.amount / 100:.2f} {html.escape(checkout.currency)}"
        return HTMLResponse(
            f"<h1>Pay {amount}</h1>"
            '<form method="post"><button>Pay (fake)</button></form>'
            f'<p><a href="{html.escape(checkout.cancel_url)}">Cancel</a></p>'
        )

    async def _event(self, kind: str, account: Account, data: dict[str, Any]) -> Delivery:
        event = {
            "id": "evt_" + secrets.token_hex(12),
            "type": kind,
            "created": int(time.time()),
            "account": account.id,
            "data": data,
        }
        body = json.dumps(event).encode()
        return await self.webhooks.deliver(
            account.webhook_url, self.signed(body), body, push=self.push
        )


class Missing(Exception):
    pass


class Conflict(Exception):
    pass


def _account(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "charges_enabled": account.charges_enabled,
        "details_submitted": account.details_submitted,
    }


def _paid(checkout: Checkout) -> dict[str, Any]:
    return {
        "checkout": checkout.id,
        "payment": checkout.payment,
        "reference": checkout.reference,
        "amount": checkout.amount,
        "currency": checkout.currency.lower(),
    }


def _error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code}}, status_code=status)


if __name__ == "__main__":  # the sandbox: python tests/fake_tillpoint.py PORT
    import sys

    import uvicorn

    fake = FakeTillpoint(
        secret_key="sandbox-tillpoint-secret-key",
        webhook_secret="sandbox-tillpoint-webhook-secret",
        push=True,
    )
    uvicorn.run(fake.app, host="127.0.0.1", port=int(sys.argv[1]))
