"""Whereby's webhooks: the Whereby-Signature check on the raw body, then the events we use."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from praxis.core.providers.common import WebhookRejected
from praxis.core.providers.video import AttendanceEvent, AttendanceRole, AttendanceType

TOLERANCE_SECONDS = 300  # older (or newer) signatures may be replays

_TYPES: dict[str, AttendanceType] = {
    "room.client.joined": "joined",
    "room.client.left": "left",
    "room.session.started": "session_started",
    "room.session.ended": "session_ended",
}
_CLIENT_EVENTS = {"joined", "left"}
_ROLES: dict[str, AttendanceRole] = {
    "host": "host",  # came in through hostRoomUrl
    "owner": "host",  # an admin of the clinic's Whereby organisation
    "member": "host",  # a member of the clinic's Whereby organisation
    "visitor": "visitor",
    "granted_visitor": "visitor",  # knocked and was let in by the host
}  # not viewers (we make no viewer links) nor recorder or streamer bots: nobody we know of


class _Envelope(BaseModel):
    id: str = Field(min_length=1)
    type: str
    created_at: AwareDatetime = Field(alias="createdAt")
    data: dict[str, Any]


class _RoomData(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)  # the docs' own example has "134"

    meeting_id: str = Field(alias="meetingId", min_length=1)
    role_name: str | None = Field(None, alias="roleName")


def verify_signature(header: str | None, body: bytes, secret: bytes, now: datetime) -> None:
    """Raise WebhookRejected unless one v1 signature of the header signs ``<t>.<body>``."""
    if not header:
        raise WebhookRejected("missing Whereby-Signature header")
    timestamp, signatures = _parse_signature(header)
    signed = timestamp.encode("ascii") + b"." + body
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest().encode("ascii")
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookRejected("Whereby-Signature does not match the body")
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise WebhookRejected("Whereby-Signature timestamp is outside the 300 s tolerance")


def _parse_signature(header: str) -> tuple[str, list[bytes]]:
    timestamps: list[str] = []
    signatures: list[bytes] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value.encode("utf-8"))
    if len(timestamps) != 1 or not (timestamps[0].isascii() and timestamps[0].isdigit()):
        raise WebhookRejected("Whereby-Signature needs exactly one numeric t=")
    if not signatures:
        raise WebhookRejected("Whereby-Signature has no v1= signature")
    return timestamps[0], signatures


def parse_event(body: bytes) -> AttendanceEvent | None:
    """The attendance event in a verified body, or None for events the platform does not use."""
    try:
        envelope = _Envelope.model_validate_json(body)
    except ValidationError:  # its message quotes the input, which may name people: drop it
        raise WebhookRejected("the body is not a Whereby event object") from None
    kind = _TYPES.get(envelope.type)
    if kind is None:
        return None
    try:
        data = _RoomData.model_validate(envelope.data)
    except ValidationError:
        raise WebhookRejected(f"{envelope.type} event without a meetingId") from None
    role: AttendanceRole | None = None
    if kind in _CLIENT_EVENTS:
        role = _ROLES.get(data.role_name or "")
        if role is None:  # the platform would count a roleless join as the consumer's
            return None
    return AttendanceEvent(
        event_id=envelope.id,
        type=kind,
        meeting_id=data.meeting_id,
        occurred_at=envelope.created_at,
        role=role,
    )
