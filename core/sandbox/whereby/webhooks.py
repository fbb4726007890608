"""Whereby's webhooks: the event bodies, their signature, and a delivery as a request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from praxis.core.providers.common import WebhookRequest
from praxis.core.sandbox.harness import Delivery
from praxis.core.sandbox.whereby.meetings import FakeMeeting, Participant, iso


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The Whereby-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def webhook_request(
    delivery: Delivery, *, received_at: datetime | None = None, topic: str = ""
) -> WebhookRequest:
    """A recorded delivery as the platform's webhook endpoint would hand it to the provider."""
    return WebhookRequest(
        url=delivery.url or "http://sandbox.localhost/-/plugins/video_whereby/webhook/",
        headers={name.lower(): value for name, value in delivery.headers.items()},
        body=delivery.body,
        topic=topic,
        received_at=received_at or datetime.now(UTC),
    )


def room_event(kind: str, meeting: FakeMeeting, **data: Any) -> dict[str, Any]:
    return {
        "id": secrets.token_hex(32),
        "apiVersion": "1.0",
        "createdAt": iso(datetime.now(UTC)),
        "type": kind,
        "data": {
            "meetingId": meeting.meeting_id,
            "roomName": meeting.room_name,
            "roomSessionId": meeting.room_session_id,
            **data,
        },
    }


def client_event(kind: str, meeting: FakeMeeting, who: Participant) -> dict[str, Any]:
    roles = Counter(p.role_name for p in meeting.participants)
    return room_event(
        kind,
        meeting,
        participantId=who.participant_id,
        roleName=who.role_name,
        displayName=f"Sandbox {who.role_name.replace('_', ' ')}",  # never a real name
        numClients=len(meeting.participants),
        numClientsByRoleName=dict(roles),
    )
