"""A fake of Lumen's rooms API, as its documentation describes it, for the plugin's tests.

It keeps rooms in memory, checks the Bearer key, signs the webhooks it sends with the
endpoint's secret, and can be made to fail (``faults``). Tests run it on 127.0.0.1 with
``praxis.core.testing.serve``; ``python tests/fake_lumen.py`` serves it for the sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from praxis.core.testing import Delivery, Faults, Webhooks
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route


@dataclass
class Room:
    id: str
    reference: str
    ends_at: str
    locked: bool
    guest_url: str
    host_url: str
    people: list[str] = field(default_factory=list)  # roles of those in the room now


class FakeLumen:
    """Lumen for one account: ``api_key`` opens the API, ``webhook_secret`` signs events to
    ``webhook_url``. ``push=True`` POSTs each event there (the sandbox); tests read
    ``webhooks.deliveries`` instead."""

    def __init__(
        self, *, api_key: str, webhook_secret: str, webhook_url: str = "", push: bool = False
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.push = push
        self.faults = Faults()
        self.webhooks = Webhooks()
        self.rooms: dict[str, Room] = {}
        self._lock = threading.Lock()  # the server runs in its own thread
        self.app = Starlette(
            routes=[
                Route("/v1/rooms", self._create, methods=["POST"]),
                Route("/v1/rooms", self._find, methods=["GET"]),
                Route("/v1/rooms/{room_id}", self._delete, methods=["DELETE"]),
                Route("/r/{room_id}", self._room_page),
            ]
        )

    # --- what a test can make happen ---------------------------------------------------------

    async def join(self, room_id: str, role: str = "guest") -> list[Delivery]:
        """Someone enters: participant.joined, and session.started once two are in."""
        with self._lock:
            room = self.rooms[room_id]
            room.people.append(role)
            events = [self._event("participant.joined", room, role=role)]
            if len(room.people) == 2:
                events.append(self._event("session.started", room))
        return [await self._send(event) for event in events]

    def signed(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        """The headers Lumen sends with a webhook body."""
        t = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new(self.webhook_secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
        return {
            "Content-Type": "application/json",
            "Lumen-Signature": f"t={t},v1={mac.hexdigest()}",
        }

    # --- the API -----------------------------------------------------------------------------

    async def _create(self, request: Request) -> Response:
        refused = await self._refused(request)
        if refused is not None:
            return refused
        body = await request.json()
        room_id = "room_" + secrets.token_hex(8)
        base = str(request.base_url).rstrip("/")
        room = Room(
            id=room_id,
            reference=str(body.get("reference", "")),
            ends_at=str(body["ends_at"]),
            locked=bool(body.get("locked", True)),
            guest_url=f"{base}/r/{room_id}",
            host_url=f"{base}/r/{room_id}?host={secrets.token_urlsafe(16)}",
        )
        with self._lock:
            self.rooms[room_id] = room
        return JSONResponse(_shown(room), status_code=201)

    async def _find(self, request: Request) -> Response:
        refused = await self._refused(request)
        if refused is not None:
            return refused
        wanted = request.query_params.get("reference")
        with self._lock:
            found = [_shown(r) for r in self.rooms.values() if r.reference == wanted]
        return JSONResponse({"rooms": found})

    async def _delete(self, request: Request) -> Response:
        refused = await self._refused(request)
        if refused is not None:
            return refused
        with self._lock:
            gone = self.rooms.pop(request.path_params["room_id"], None)
        return Response(status_code=204 if gone else 404)

    async def _room_page(self, request: Request) -> Response:
        """What a person sees on a room link (the sandbox): entering counts as joining."""
        room_id = request.path_params["room_id"]
        if room_id not in self.rooms:
            return HTMLResponse("<p>This Lumen room has closed.</p>", status_code=404)
        role = "host" if "host" in request.query_params else "guest"
        await self.join(room_id, role)
        return HTMLResponse(f"<p>Fake Lumen room {room_id}: you are in as the {role}.</p>")

    async def _refused(self, request: Request) -> Response | None:
        """A fault the test asked for, or a 401 for a wrong key; None to go on."""
        fault = await self.faults.inject(request, {"error": "unavailable"})
        if fault is not None:
            return fault
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"error": "invalid API key"}, status_code=401)
        return None

    # --- webhooks ----------------------------------------------------------------------------

    def _event(self, kind: str, room: Room, **data: Any) -> dict[str, Any]:
        return {
            "id": "evt_" + secrets.token_hex(12),
            "type": kind,
            "room_id": room.id,
            "occurred_at": datetime.now(UTC).isoformat(),
            **data,
        }

    async def _send(self, event: dict[str, Any]) -> Delivery:
        body = json.dumps(event).encode()
        return await self.webhooks.deliver(
            self.webhook_url, self.signed(body), body, push=self.push
        )


def _shown(room: Room) -> dict[str, Any]:
    return {
        "id": room.id,
        "reference": room.reference,
        "ends_at": room.ends_at,
        "locked": room.locked,
        "guest_url": room.guest_url,
        "host_url": room.host_url,
    }


if __name__ == "__main__":  # the sandbox: python tests/fake_lumen.py PORT WEBHOOK_URL
    import sys

    import uvicorn

    port, webhook_url = int(sys.argv[1]), sys.argv[2]
    fake = FakeLumen(
        api_key="sandbox-lumen-api-key",
        webhook_secret="sandbox-lumen-webhook-secret",
        webhook_url=webhook_url,
        push=True,
    )
    uvicorn.run(fake.app, host="127.0.0.1", port=port)
