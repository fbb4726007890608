"""The hosted pages a person sees: Checkout (pay, cancel, expire) and Connect onboarding."""

from __future__ import annotations

import copy
import html
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from praxis.core.sandbox.stripe.fake import FakeStripe

_ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg"})


def routes(fake: FakeStripe) -> list[Route]:
    """The pages, beside the API under the same mount (``/-/sandbox/stripe/checkout/...``)."""
    return [
        Route("/checkout/{session}", partial(checkout_page, fake), methods=["GET"]),
        Route("/checkout/{session}/{action}", partial(checkout_action, fake), methods=["POST"]),
        Route("/onboarding/{account}", partial(onboarding_page, fake), methods=["GET"]),
        Route("/onboarding/{account}/complete", partial(onboarding_done, fake), methods=["POST"]),
    ]


async def checkout_page(fake: FakeStripe, request: Request) -> Response:
    session_id = request.path_params["session"]
    with fake._lock:
        session = copy.deepcopy(fake.sessions.get(session_id))
        extra = fake._checkouts.get(session_id)
    if session is None or extra is None:
        return _page("Checkout not found", "<p>There is no such checkout session.</p>", 404)
    price = html.escape(_money(session["amount_total"], session["currency"]))
    what = html.escape(extra.description)
    if session["status"] == "open":
        action = html.escape(f"{root(request)}/checkout/{session_id}")
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
        body = f'<p>{price} for {what} {paid}.</p><p><a href="{back}">Back to the clinic</a></p>'
        return _page("Paid", body)
    back = html.escape(session["cancel_url"])
    body = f'<p>This checkout has expired.</p><p><a href="{back}">Back to the clinic</a></p>'
    return _page("Checkout expired", body)


async def checkout_action(fake: FakeStripe, request: Request) -> Response:
    session_id, action = request.path_params["session"], request.path_params["action"]
    with fake._lock:
        session = fake.sessions.get(session_id)
        if session is None or action not in {"pay", "cancel", "expire"}:
            return _page("Not found", "<p>There is no such page.</p>", 404)
        page = f"{root(request)}/checkout/{session_id}"
        if action == "cancel":
            return RedirectResponse(session["cancel_url"], 303)
        if session["status"] != "open":
            return RedirectResponse(page, 303)
        if action == "expire":
            fake.expire(session_id)
            return RedirectResponse(page, 303)
        fake.pay(session_id)
        return RedirectResponse(_success_url(session), 303)


async def onboarding_page(fake: FakeStripe, request: Request) -> Response:
    account_id = request.path_params["account"]
    with fake._lock:
        account = copy.deepcopy(fake.accounts.get(account_id))
        link = fake._onboarding.get(account_id)
    if account is None:
        return _page("Account not found", "<p>There is no such account.</p>", 404)
    if link is not None and link.refresh_url and link.expires_at < fake.now():
        return RedirectResponse(link.refresh_url, 303)  # an expired link, as Stripe does
    done = "is complete" if account["details_submitted"] else "is not complete yet"
    action = html.escape(f"{root(request)}/onboarding/{account_id}/complete")
    body = (
        f"<p>Connected account <code>{html.escape(account_id)}</code>: onboarding {done}.</p>"
        "<p>No identity or bank details are asked for here.</p>"
        f'<form method="post" action="{action}"><button>Complete onboarding</button></form>'
    )
    return _page("Set up payments", body)


async def onboarding_done(fake: FakeStripe, request: Request) -> Response:
    account_id = request.path_params["account"]
    with fake._lock:
        if account_id not in fake.accounts:
            return _page("Account not found", "<p>There is no such account.</p>", 404)
        fake.complete_onboarding(account_id)
        link = fake._onboarding.get(account_id)
    if link is not None and link.return_url:
        return RedirectResponse(link.return_url, 303)
    return _page("Onboarding complete", "<p>You can close this page.</p>")


def root(request: Request) -> str:
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
