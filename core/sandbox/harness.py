"""What every fake shares: running it on 127.0.0.1, injected faults, signed webhook delivery.

A fake is a stateful Starlette app shaped by the provider's official contract. Tests run
it in a thread with ``serve(app)`` and talk to it with the real SDK; the development
sandbox mounts the same app under ``/-/sandbox/<provider>/``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from praxis.core.providers.common import WebhookRequest


@dataclass(frozen=True)
class Fault:
    kind: Literal["status", "timeout"]
    status: int = 503
    retry_after: int | None = None
    delay: float = 3.0  # a timeout is a response slower than any client waits for


class Faults:
    """What the next calls to a fake suffer, in order: an error status, a 429 or a timeout."""

    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()
        self.calls = 0  # every API call the fake received, faulty or not

    def fail_next(self, count: int = 1, *, status: int = 503) -> None:
        self._add(count, Fault("status", status=status))

    def throttle_next(self, count: int = 1, *, retry_after: int = 1) -> None:
        self._add(count, Fault("status", status=429, retry_after=retry_after))

    def time_out_next(self, count: int = 1, *, delay: float = 3.0) -> None:
        self._add(count, Fault("timeout", delay=delay))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.calls = 0

    def _add(self, count: int, fault: Fault) -> None:
        with self._lock:
            self._queue.extend([fault] * count)

    def take(self) -> Fault | None:
        with self._lock:
            self.calls += 1
            return self._queue.popleft() if self._queue else None

    async def inject(
        self,
        request: Request,
        error_body: dict[str, object],
        *,
        respond: Callable[[Fault], Response] | None = None,
    ) -> Response | None:
        """The response a faulty call gets instead of the real one, or None to go on.
        ``respond`` builds a provider-specific one (its own body and headers)."""
        fault = self.take()
        if fault is None:
            return None
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
        if respond is not None:
            return respond(fault)
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
        return JSONResponse(error_body, status_code=fault.status, headers=headers)


@dataclass(frozen=True)
class Delivery:
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # what the receiver answered, if it was pushed


@dataclass
class Webhooks:
    """Signed webhook deliveries: always kept for tests to replay, pushed when asked."""

    deliveries: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def deliver(
        self, url: str, headers: dict[str, str], body: bytes, *, push: bool = True
    ) -> Delivery:
        """Keep the delivery; POST it to ``url`` too when ``push`` (the sandbox)."""
        status = None
        if url and push:
            status = await _post(url, headers, body)
        delivery = Delivery(url, headers, body, status)
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    def clear(self) -> None:
        with self._lock:
            self.deliveries.clear()


async def _post(url: str, headers: dict[str, str], body: bytes) -> int | None:
    """POST as the provider would. ``*.localhost`` hosts are reached on 127.0.0.1 (the
    sandbox), keeping the Host header, so signatures over the URL still hold."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    target = url
    send_headers = dict(headers)
    if host.endswith(".localhost") or host == "localhost":
        netloc = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
        target = urlunsplit(parts._replace(netloc=netloc))
        send_headers["host"] = parts.netloc
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(target, content=body, headers=send_headers)
    except httpx.HTTPError:
        return None  # the receiver is down: the provider would retry later; the log keeps it
    return response.status_code


@dataclass
class RunningFake:
    url: str  # http://127.0.0.1:PORT
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start(app: ASGIApp) -> RunningFake:
    """Serve ``app`` on a free port of 127.0.0.1 in a thread of its own."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake server did not start")
        time.sleep(0.01)
    return RunningFake(f"http://127.0.0.1:{port}", server, thread)


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    running = start(app)
    try:
        yield running.url
    finally:
        running.stop()


def webhook_request(
    delivery: Delivery,
    *,
    url: str | None = None,
    topic: str = "",
    received_at: datetime | None = None,
) -> WebhookRequest:
    """A recorded delivery as the platform's webhook endpoint would see it."""
    headers: Mapping[str, str] = {k.lower(): v for k, v in delivery.headers.items()}
    return WebhookRequest(
        url=url or delivery.url,
        headers=headers,
        body=delivery.body,
        topic=topic,
        received_at=received_at or datetime.now(UTC),
    )
