"""A fake of Heron's SMS API, as its documentation describes it, for the plugin's tests.

It keeps texts in memory, honours ``Idempotency-Key``, refuses numbers that said STOP, and
signs the delivery reports and inbound texts it sends. ``python tests/fake_heron.py`` serves
it for the sandbox, with an inbox page per phone number.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from praxis.core.testing import Delivery, Faults, Webhooks
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route


@dataclass
class Text:
    id: str
    to: str
    sender: str
    body: str
    status_url: str
    status: str = "queued"


class FakeHeron:
    """Heron for one account. ``inbound_url`` is where texts to the clinic's number go;
    ``push=True`` POSTs webhooks (the sandbox), and each text is then reported delivered."""

    def __init__(
        self, *, api_key: str, signing_secret: str, inbound_url: str = "", push: bool = False
    ) -> None:
        self.api_key = api_key
        self.signing_secret = signing_secret
        self.inbound_url = inbound_url
        self.push = push
        self.faults = Faults()
        self.webhooks = Webhooks()
        self.texts: dict[str, Text] = {}
        self.unsubscribed: set[str] = set()
        self._by_key: dict[str, str] = {}  # idempotency key -> text id
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/v1/messages", self._send, methods=["POST"]),
                Route("/inbox/{number}", self._inbox),
            ]
        )

    def reset(self) -> None:
        with self._lock:
            self.texts.clear()
            self.unsubscribed.clear()
            self._by_key.clear()
        self.faults.clear()
        self.webhooks.clear()

    # --- what a test can make happen ---------------------------------------------------------

    async def report(self, text_id: str, status: str, error_code: str | None = None) -> Delivery:
        """Heron learns what became of a text, and tells its status_url."""
        text = self.texts[text_id]
        text.status = status
        event = {
            "event_id": "evt_" + secrets.token_hex(12),
            "message_id": text.id,
            "status": status,
            "error_code": error_code,
        }
        return await self._post(text.status_url, event)

    async def text_in(self, from_number: str, body: str) -> Delivery:
        """Someone texts the clinic's number (STOP, START, HELP, ...)."""
        if body.strip().upper() == "STOP":
            self.unsubscribed.add(from_number)
        event = {"event_id": "in_" + secrets.token_hex(12), "from": from_number, "text": body}
        return await self._post(self.inbound_url, event)

    def signed(self, url: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        t = int(time.time()) if timestamp is None else timestamp
        signed = f"{url}\n{t}\n".encode() + body
        mac = hmac.new(self.signing_secret.encode(), signed, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "Heron-Signature": f"t={t},v1={mac}"}

    # --- the API -----------------------------------------------------------------------------

    async def _send(self, request: Request) -> Response:
        fault = await self.faults.inject(request, {"error": {"code": "unavailable"}})
        if fault is not None:
            return fault
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "invalid_api_key")
        body = await request.json()
        key = request.headers.get("idempotency-key", "")
        with self._lock:
            if key and key in self._by_key:  # a repeat: the first answer, marked as such
                headers = {"Idempotent-Replayed": "true"}
                return JSONResponse(_shown(self.texts[self._by_key[key]]), headers=headers)
            if body["to"] in self.unsubscribed:
                return _error(403, "recipient_opted_out")
            text = Text(
                id="msg_" + secrets.token_hex(12),
                to=body["to"],
                sender=body["from"],
                body=body["text"],
                status_url=body.get("status_url", ""),
            )
            self.texts[text.id] = text
            if key:
                self._by_key[key] = text.id
        # by hand, the text is delivered a moment after the answer (tests call report())
        later = BackgroundTask(self._delivered, text.id) if self.push else None
        return JSONResponse(_shown(text), status_code=201, background=later)

    async def _delivered(self, text_id: str) -> None:
        await asyncio.sleep(1)  # the platform notes the text it sent before its report comes
        await self.report(text_id, "delivered")

    async def _inbox(self, request: Request) -> Response:
        """The sandbox: the texts a phone has received."""
        number = request.path_params["number"]
        items = "".join(
            f"<li>{html.escape(t.body)} <small>({t.status})</small></li>"
            for t in self.texts.values()
            if t.to == number
        )
        return HTMLResponse(f"<h1>{html.escape(number)}</h1><ul>{items}</ul>")

    async def _post(self, url: str, event: dict[str, Any]) -> Delivery:
        body = json.dumps(event).encode()
        return await self.webhooks.deliver(url, self.signed(url, body), body, push=self.push)


def _shown(text: Text) -> dict[str, str]:
    return {"id": text.id, "status": text.status}


def _error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code}}, status_code=status)


if __name__ == "__main__":  # the sandbox: python tests/fake_heron.py PORT INBOUND_URL
    import sys

    import uvicorn

    port, inbound_url = int(sys.argv[1]), sys.argv[2]
    fake = FakeHeron(
        api_key="sandbox-heron-api-key",
        signing_secret="sandbox-heron-signing-secret",
        inbound_url=inbound_url,
        push=True,
    )
    uvicorn.run(fake.app, host="127.0.0.1", port=port)
