"""Pure ASGI middleware: the edge of every request, and tenant resolution."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Sequence

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from praxis.core.logs import AccessLog
from praxis.core.web.closed import closed_page
from praxis.core.web.suspended import suspended_page
from praxis.tenants.directory import TenantDirectory

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


def security_headers(*, hsts: bool) -> list[tuple[bytes, bytes]]:
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
    return headers


class EdgeMiddleware:
    """What every HTTP request gets at the door, in one pass (each layer costs a request):
    a request id, the security headers, a body-size limit, one access-log line."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool,
        max_body_bytes: int,
        larger_bodies: Sequence[tuple[re.Pattern[str], int]] = (),
        access_log: bool = True,
    ) -> None:
        self.app = app
        self.headers = security_headers(hsts=hsts)
        self.names = frozenset(name for name, _ in self.headers)
        self.max_body = max_body_bytes
        self.larger = tuple(larger_bodies)  # the few pages that take an upload
        self.access_log = AccessLog(enabled=access_log)

    def _limit(self, path: str) -> int:
        for pattern, limit in self.larger:
            if pattern.match(path):
                return max(limit, self.max_body)
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        added = [(b"x-request-id", request_id.encode()), *self.headers]
        names = self.names
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                existing = message.setdefault("headers", [])
                present = {name.lower() for name, _ in existing}
                if present.isdisjoint(names):
                    existing.extend(added)
                else:  # what the response set itself stays as it is
                    existing.extend(h for h in added if h[0] not in present)
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            if scope["method"] in _NO_BODY:
                await self.app(scope, receive, send_with_headers)
            elif _declared_length(scope) > (limit := self._limit(scope["path"])):
                await _too_large(send_with_headers, scope["path"], limit)
            else:
                await self.app(scope, _limited(receive, limit), send_with_headers)
        finally:
            elapsed = round((time.perf_counter() - started) * 1000, 2)
            # paths hold ids only; query strings are never logged
            self.access_log.request(scope["method"], scope["path"], status, elapsed)
            structlog.contextvars.clear_contextvars()


def _declared_length(scope: Scope) -> int:
    value = _header(scope, b"content-length")
    return int(value) if value and value.isdigit() else 0


def _limited(receive: Receive, limit: int) -> Receive:
    """Counts the body as it arrives; past the limit the request fails with 413."""
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise HTTPException(413, "The request is too large.")
        return message

    return receive_within_limit


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    """A whole response sent at the door, before any app code runs."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _too_large(send: Send, path: str, limit: int) -> None:
    """Refused by its declared length: the API's error shape, or a page a person can act on
    (who chose a file too large for a photo or a logo)."""
    most = f"{limit / 1_000_000:.0f} MB" if limit >= 1_000_000 else f"{limit // 1000} KB"
    said = f"This takes at most {most}, a file included."
    if path.startswith("/api/"):
        error = {"error": {"code": "too_large", "message": said, "fields": {}}}
        await _respond(send, 413, json.dumps(error).encode(), b"application/json")
        return
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Too large</title>"
        "</head><body><main><h1>What you sent is too large</h1>"
        f"<p>{said} Go back and choose a smaller file, or make the picture smaller first.</p>"
        "</main></body></html>"
    )
    await _respond(send, 413, page.encode(), b"text/html; charset=utf-8")


UNKNOWN_HOST_PAGE = (
    b"<!doctype html><html lang=en><head><meta charset=utf-8><title>Not found</title></head>"
    b"<body><main><h1>There is no clinic at this address</h1>"
    b"<p>Check the address you were given by your clinic.</p></main></body></html>"
)


BAD_HOST_PAGE = (
    b"<!doctype html><html lang=en><head><meta charset=utf-8><title>Bad request</title></head>"
    b"<body><main><h1>This request names more than one address</h1>"
    b"<p>Send one Host header, and no other host in the request line.</p></main></body></html>"
)
TARGET_AUTHORITY = "praxis.target_authority"  # scope key: the absolute request line's host


class TenantMiddleware:
    """Resolves the Host to a tenant (or the platform site); unknown hosts get a 404 page."""

    def __init__(
        self, app: ASGIApp, *, directory: TenantDirectory, any_host: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.directory = directory
        self.any_host = any_host  # path prefixes served whatever the host (the dev sandbox)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] == "/-/health":
            await self.app(scope, receive, send)  # health checks come from any host
            return
        if self.any_host and scope["path"].startswith(self.any_host):
            await self.app(scope, receive, send)
            return
        host = _one_host(scope)
        if host is None:
            await _refuse(scope, send, 400, BAD_HOST_PAGE)
            return
        site = await self.directory.resolve(host)
        if site is None:
            await _refuse(scope, send, 404, UNKNOWN_HOST_PAGE)
            return
        closed = closed_page(site)  # the clinic has left: no sign-in, no page (P29)
        if closed is not None:
            await _refuse(scope, send, 410, closed)
            return
        paused = suspended_page(site)  # an operator suspended the clinic: unavailable for now
        if paused is not None:
            await _refuse(scope, send, 503, paused)
            return
        scope.setdefault("state", {})["site"] = site
        tenant_id = getattr(site, "id", None)
        if tenant_id is not None:
            structlog.contextvars.bind_contextvars(tenant_id=str(tenant_id))
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, status: int, page: bytes) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
    else:
        await _respond(send, status, page, b"text/html; charset=utf-8")


def _one_host(scope: Scope) -> str | None:
    """The one Host, or None when a proxy in front could read another clinic than we do:
    Host given twice, or an absolute request target naming a different host."""
    hosts = [value for key, value in scope["headers"] if key == b"host"]
    if len(hosts) > 1:
        return None
    host = hosts[0].decode("latin-1") if hosts else ""
    target = _target_authority(scope)
    if target is not None and target.lower() != host.lower():
        return None
    return host


def _target_authority(scope: Scope) -> str | None:
    """The host of an absolute-form request line (``GET http://host/path``), if it was one.

    h11 leaves the whole target in ``raw_path``; httptools keeps only the path, so the
    server's protocol (core/web/server.py) hands the authority over in the scope."""
    given = scope.get(TARGET_AUTHORITY)
    if given is not None:
        return str(given)
    raw = scope.get("raw_path") or b""
    scheme, sep, rest = raw.partition(b"://")
    if not sep or b"/" in scheme:
        return None
    return str(rest.split(b"/", 1)[0].decode("latin-1"))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
