"""FakeWhereby: organisations and meetings, people joining and leaving, the webhooks sent."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from starlette.applications import Starlette

from praxis.core.sandbox.harness import Delivery, Faults, Webhooks
from praxis.core.sandbox.whereby import api, pages
from praxis.core.sandbox.whereby.meetings import FakeMeeting, Participant, Role
from praxis.core.sandbox.whereby.state import Organisation, ReceivedRequest
from praxis.core.sandbox.whereby.webhooks import client_event, room_event, sign


class FakeWhereby:
    """Whereby for tests and the sandbox; ``push=True`` POSTs webhooks, else only records them."""

    def __init__(self, *, push: bool = False) -> None:
        self.push = push
        self.faults = Faults()
        self.webhooks = Webhooks()
        self.meetings: dict[str, FakeMeeting] = {}
        self.requests: list[ReceivedRequest] = []
        self._organisations: dict[str, Organisation] = {}
        self._cursors: dict[str, tuple[str, int]] = {}  # token -> (api key, last seq)
        self._seq = 0
        self._lock = threading.Lock()  # tests act from their thread, the server from its own
        self.app = Starlette(routes=[*api.routes(self), *pages.routes(self)])

    # --- control ------------------------------------------------------------------------------

    def add_api_key(
        self, key: str, *, webhook_url: str | None = None, webhook_secret: str | None = None
    ) -> None:
        """Register an organisation; without a secret it has no webhook endpoint."""
        if webhook_url and not webhook_secret:
            raise ValueError("a webhook_url needs its webhook_secret: Whereby signs every event")
        with self._lock:
            self._organisations[key] = Organisation(key, webhook_url, webhook_secret)

    def reset(self) -> None:
        """Forget meetings, requests, faults and deliveries; registered API keys stay."""
        with self._lock:
            self.meetings.clear()
            self.requests.clear()
            self._cursors.clear()
        self.faults.clear()
        self.webhooks.clear()

    def by_room_name(self, room_name: str) -> FakeMeeting | None:
        wanted = "/" + room_name.lstrip("/")
        with self._lock:
            return next((m for m in self.meetings.values() if m.room_name == wanted), None)

    async def join(self, meeting_id: str, role: Role = "visitor") -> str:
        """Someone enters the room: room.client.joined, and room.session.started at two."""
        with self._lock:
            meeting = self._live(meeting_id)
            # a locked room lets visitors in only after they knock: Whereby calls them granted
            role_name = "granted_visitor" if role == "visitor" and meeting.is_locked else role
            participant = Participant(str(uuid.uuid4()), role_name)
            if not meeting.participants:
                meeting.room_session_id = str(uuid.uuid4())
            meeting.participants.append(participant)
            events = [client_event("room.client.joined", meeting, participant)]
            if len(meeting.participants) >= 2 and not meeting.session_started:
                meeting.session_started = True
                events.append(room_event("room.session.started", meeting))
        await self._send(meeting.api_key, events)
        return participant.participant_id

    async def leave(
        self, meeting_id: str, role: Role | None = None, *, participant_id: str | None = None
    ) -> None:
        """The latest one in (of ``role``, or with that id) leaves: room.client.left, and
        room.session.ended once fewer than two remain."""
        with self._lock:
            meeting = self._live(meeting_id)
            participant = _pick(meeting.participants, role, participant_id)
            meeting.participants.remove(participant)
            events = [client_event("room.client.left", meeting, participant)]
            if len(meeting.participants) < 2 and meeting.session_started:
                meeting.session_started = False
                events.append(room_event("room.session.ended", meeting))
            if not meeting.participants:
                meeting.room_session_id = None
        await self._send(meeting.api_key, events)

    def _live(self, meeting_id: str) -> FakeMeeting:
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            raise LookupError(f"no meeting {meeting_id} at the fake Whereby")
        return meeting

    # --- webhooks -----------------------------------------------------------------------------

    async def _send(self, api_key: str, events: list[dict[str, Any]]) -> None:
        organisation = self._organisations[api_key]
        if not organisation.webhook_secret:
            return  # the organisation set up no webhook
        url = organisation.webhook_url or ""
        for event in events:
            body = json.dumps(event, separators=(",", ":")).encode()
            headers = {
                "Content-Type": "application/json",
                "Whereby-Signature": sign(organisation.webhook_secret, body, int(time.time())),
            }
            if self.push and url:
                await self.webhooks.deliver(url, headers, body)
            else:  # recorded with its address, for a test to replay; list.append is atomic
                self.webhooks.deliveries.append(Delivery(url, headers, body))


def _pick(people: list[Participant], role: Role | None, participant_id: str | None) -> Participant:
    def matches(p: Participant) -> bool:
        if participant_id is not None:
            return p.participant_id == participant_id
        return role is None or p.role_name in (role, f"granted_{role}")

    found = next((p for p in reversed(people) if matches(p)), None)
    if found is None:
        raise LookupError("nobody like that is in the room")
    return found
