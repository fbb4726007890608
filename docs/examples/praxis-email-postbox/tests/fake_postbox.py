"""A fake of Postbox's email API, as its documentation describes it, for the plugin's tests.

It keeps emails in memory, honours ``Idempotency-Key``, refuses addresses that bounced
before, and can be made to fail (``faults``). ``python tests/fake_postbox.py PORT`` serves it
for the sandbox, with the emails sent listed at /outbox.
"""

from __future__ import annotations

import html
import secrets
import threading
from typing import Any

from praxis.core.testing import Faults
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route


class FakePostbox:
    def __init__(self, *, server_token: str) -> None:
        self.server_token = server_token
        self.faults = Faults()
        self.emails: dict[str, dict[str, Any]] = {}
        self.inactive: set[str] = set()  # addresses that bounced or complained
        self._by_key: dict[str, str] = {}
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/v1/email", self._send, methods=["POST"]),
                Route("/outbox", self._outbox),
            ]
        )

    def reset(self) -> None:
        with self._lock:
            self.emails.clear()
            self.inactive.clear()
            self._by_key.clear()
        self.faults.clear()

    async def _send(self, request: Request) -> Response:
        fault = await self.faults.inject(request, {"error": {"code": "unavailable"}})
        if fault is not None:
            return fault
        if request.headers.get("x-postbox-token") != self.server_token:
            return _error(401, "invalid_token")
        body = await request.json()
        key = request.headers.get("idempotency-key", "")
        with self._lock:
            if key in self._by_key:
                first = {"id": self._by_key[key]}
                return JSONResponse(first, headers={"Idempotent-Replayed": "true"})
            if "@" not in body["to"]:
                return _error(422, "invalid_recipient")
            if body["to"] in self.inactive:
                return _error(422, "inactive_recipient")
            email_id = secrets.token_hex(12)
            self.emails[email_id] = body
            self._by_key[key] = email_id
        return JSONResponse({"id": email_id}, status_code=202)

    async def _outbox(self, request: Request) -> Response:
        """The sandbox: every email sent, newest first."""
        items = "".join(
            f"<li><b>{html.escape(e['subject'])}</b> to {html.escape(e['to'])}"
            f"<pre>{html.escape(e['text'])}</pre></li>"
            for e in reversed(list(self.emails.values()))
        )
        return HTMLResponse(f"<h1>Postbox outbox</h1><ul>{items}</ul>")


def _error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code}}, status_code=status)


if __name__ == "__main__":  # the sandbox: python tests/fake_postbox.py PORT
    import sys

    import uvicorn

    fake = FakePostbox(server_token="sandbox-postbox-server-token")
    uvicorn.run(fake.app, host="127.0.0.1", port=int(sys.argv[1]))
