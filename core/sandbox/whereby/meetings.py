"""A meeting as the fake holds it (room, keys, who is in) and as the contract shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Role = Literal["host", "visitor", "viewer"]


@dataclass
class Participant:
    participant_id: str
    role_name: str  # as Whereby names it: host, visitor, granted_visitor, viewer


@dataclass
class FakeMeeting:
    meeting_id: str
    api_key: str  # the organisation it belongs to
    seq: int  # creation order, for the listing's cursor
    room_name: str  # "/<prefix>-<uuid>"
    room_url: str
    host_key: str
    viewer_key: str
    start_date: datetime
    end_date: datetime
    is_locked: bool
    room_mode: str
    participants: list[Participant] = field(default_factory=list)
    room_session_id: str | None = None
    session_started: bool = False

    @property
    def host_room_url(self) -> str:
        return f"{self.room_url}?roomKey={self.host_key}"

    @property
    def viewer_room_url(self) -> str:
        return f"{self.room_url}?viewerKey={self.viewer_key}"

    def resource(self, fields: set[str]) -> dict[str, Any]:
        """The contract's Meeting; the optional URLs only when ``fields`` asks for them."""
        body: dict[str, Any] = {
            "meetingId": self.meeting_id,
            "roomName": self.room_name,
            "roomUrl": self.room_url,
            "startDate": iso(self.start_date),
            "endDate": iso(self.end_date),
        }
        if "hostRoomUrl" in fields:
            body["hostRoomUrl"] = self.host_room_url
        if "viewerRoomUrl" in fields:
            body["viewerRoomUrl"] = self.viewer_room_url
        return body


def iso(moment: datetime) -> str:
    """UTC with milliseconds and a Z, as Whereby writes dates."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
