"""Pure ASGI middleware: request context and logs, security headers, tenant resolution."""

from __future__ import annotations

import re
import secrets
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenants.directory import TenantDirectory

log = structlog.get_logger("praxis.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


class RequestContextMiddleware:
    """A request id on every response and one access-log line per request."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode())
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append(id_header)
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],  # paths hold ids only; query strings are not logged
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 2),
                )
            structlog.contextvars.clear_contextvars()


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        headers = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if hsts:
            headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
        self.headers = headers
        self.names = frozenset(name for name, _ in headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers, names = self.headers, self.names

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = message.setdefault("headers", [])
                present = {name.lower() for name, _ in existing}
                if present.isdisjoint(names):
                    existing.extend(headers)
                else:  # what the response set itself stays as it is
                    existing.extend(h for h in headers if h[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


UNKNOWN_HOST_PAGE = (
    b"<!doctype html><html lang=en><head><meta charset=utf-8><title>Not found</title></head>"
    b"<body><main><h1>There is no clinic at this address</h1>"
    b"<p>Check the address you were given by your clinic.</p></main></body></html>"
)


class TenantMiddleware:
    """Resolves the Host to a tenant (or the platform site); unknown hosts get a 404 page."""

    def __init__(self, app: ASGIApp, *, directory: TenantDirectory) -> None:
        self.app = app
        self.directory = directory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] == "/-/health":
            await self.app(scope, receive, send)  # health checks come from any host
            return
        site = await self.directory.resolve(_header(scope, b"host") or "")
        if site is None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await _unknown_host(send)
            return
        scope.setdefault("state", {})["site"] = site
        tenant_id = getattr(site, "id", None)
        if tenant_id is not None:
            structlog.contextvars.bind_contextvars(tenant_id=str(tenant_id))
        await self.app(scope, receive, send)


async def _unknown_host(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(UNKNOWN_HOST_PAGE)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": UNKNOWN_HOST_PAGE})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
