"""Video consultations: the DTOs and the Protocol a video plugin implements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from praxis.core.providers.common import WebhookReply, WebhookRequest
from praxis.core.providers.manifest import DataCategory


@dataclass(frozen=True)
class MeetingRequest:
    """A private room for one consultation. Nothing about the people in it is sent."""

    idempotency_key: str  # the same on every retry of one job
    attempt: int  # 1 on the first try; a later attempt may find the room already made
    ends_at: datetime  # the room may close after this (the consultation's end plus grace)
    is_locked: bool = True  # guests knock; the host lets them in

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return (DataCategory.APPOINTMENT,)


@dataclass(frozen=True)
class Meeting:
    meeting_id: str
    room_url: str  # for the consumer
    host_room_url: str  # for the Professional: grants host rights, never shown to consumers
    ends_at: datetime


@dataclass(frozen=True)
class MeetingDeletion:
    meeting_id: str
    idempotency_key: str

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return ()


AttendanceType = Literal["joined", "left", "session_started", "session_ended"]
AttendanceRole = Literal["host", "visitor"]


@dataclass(frozen=True)
class AttendanceEvent:
    """Someone joined or left a room, or a session (two or more people) began or ended."""

    event_id: str  # unique per event at the provider; replays carry the same id
    type: AttendanceType
    meeting_id: str
    occurred_at: datetime
    role: AttendanceRole | None = None  # for joined and left


@runtime_checkable
class VideoProvider(Protocol):
    async def create_meeting(self, request: MeetingRequest) -> Meeting:
        """Create the room; raise TemporaryFailure or PermanentFailure when it fails."""
        ...

    async def delete_meeting(self, request: MeetingDeletion) -> None:
        """Delete the room; deleting one that is already gone succeeds."""
        ...

    def parse_webhook(self, request: WebhookRequest) -> AttendanceEvent | None:
        """Verify and read a webhook; None for events the platform does not use.

        Raise ``WebhookRejected`` if the signature, timestamp or body is wrong.
        """
        ...

    @property
    def webhook_reply(self) -> WebhookReply:
        """What to answer a webhook once it is stored."""
        ...
