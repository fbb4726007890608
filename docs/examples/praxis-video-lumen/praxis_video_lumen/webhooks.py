"""Lumen's webhooks: the Lumen-Signature check on the raw body, then the events Praxis uses.

Lumen signs ``<t>.<body>`` with HMAC-SHA256 and the endpoint's signing secret, and sends
``Lumen-Signature: t=<unix seconds>,v1=<hex>``. Nothing is read before that holds.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from praxis.core.providers.common import WebhookRejected
from praxis.core.providers.video import AttendanceEvent, AttendanceRole, AttendanceType
from pydantic import AwareDatetime, BaseModel, Field, ValidationError

TOLERANCE_SECONDS = 300  # an older (or newer) signature may be a replay

_TYPES: dict[str, AttendanceType] = {
    "participant.joined": "joined",
    "participant.left": "left",
    "session.started": "session_started",
    "session.ended": "session_ended",
}
_ROLES: dict[str, AttendanceRole] = {"host": "host", "guest": "visitor"}


class _Event(BaseModel):
    id: str = Field(min_length=1)
    type: str
    room_id: str = Field(min_length=1)
    occurred_at: AwareDatetime
    role: str | None = None


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    """The v1 signature Lumen computes: hex HMAC-SHA256 of ``<t>.<body>``."""
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(header: str | None, body: bytes, secret: bytes, received_at: datetime) -> None:
    """Raise WebhookRejected unless Lumen signed exactly this body, recently."""
    if not header:
        raise WebhookRejected("no Lumen-Signature header")
    parts: dict[str, str] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        parts[name] = value
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or not given:
        raise WebhookRejected("Lumen-Signature needs t= and v1=")
    expected = signature(secret, body, int(timestamp))
    if not hmac.compare_digest(expected.encode(), given.encode()):  # constant time
        raise WebhookRejected("Lumen-Signature does not match the body")
    if abs(received_at.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise WebhookRejected("Lumen-Signature is too old (or from the future)")


def attendance_event(body: bytes) -> AttendanceEvent | None:
    """What a verified body means to Praxis; None for events it does not use."""
    try:
        event = _Event.model_validate_json(body)
    except ValidationError:  # its message would quote the body
        raise WebhookRejected("the body is not a Lumen event") from None
    kind = _TYPES.get(event.type)
    if kind is None:
        return None
    role: AttendanceRole | None = None
    if kind in ("joined", "left"):
        role = _ROLES.get(event.role or "")
        if role is None:  # a recorder or a viewer: nobody the platform counts
            return None
    return AttendanceEvent(
        event_id=event.id,
        type=kind,
        meeting_id=event.room_id,  # the same id create_meeting returned as meeting_id
        occurred_at=event.occurred_at,
        role=role,
    )
