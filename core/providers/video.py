"""Video consultations: the DTOs and the Protocol a video plugin implements.

Lifecycle: when a video appointment is confirmed (free at booking, or once paid) the platform
asks for one locked room (``create_meeting``) that may close after ``ends_at`` (the
consultation's end plus a grace period). The consumer's ``room_url`` and the Professional's
``host_room_url`` are shown only from shortly before the start until the room closes. When the
appointment is cancelled the room is deleted (``delete_meeting``; deleting one already gone
succeeds). Attendance comes back through webhooks naming ``meeting_id``, which must be the
same id the provider gives in its webhooks. Times are aware datetimes (UTC is safest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import AwareDatetime

from praxis.core.providers.common import (
    DataCategory,
    Kind,
    Operation,
    PersonLink,
    ProviderId,
    WebhookReply,
    WebhookRequest,
)


@dataclass(frozen=True)
class MeetingRequest:
    """A private room for one consultation. Nothing about the people in it is sent."""

    idempotency_key: str  # the same on every retry of one job
    attempt: int  # 1 on the first try; a later attempt must look for the room already made
    ends_at: datetime  # the room may close after this (the consultation's end plus grace)
    is_locked: bool = True  # guests knock; the host lets them in

    @property
    def categories(self) -> tuple[DataCategory, ...]:
        return (DataCategory.APPOINTMENT,)


@dataclass(frozen=True)
class Meeting:
    meeting_id: ProviderId  # the id the provider's webhooks name the room by
    room_url: PersonLink  # for the consumer: https (http in development only)
    host_room_url: PersonLink  # for the Professional: host rights, never shown to consumers
    ends_at: AwareDatetime
    # On a later attempt: True if this is the room an earlier attempt made (it had arrived),
    # False if none was found and this one is new, None if the plugin cannot tell.
    recovered: bool | None = None


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

    event_id: ProviderId  # unique per event at the provider; replays carry the same id
    type: AttendanceType
    meeting_id: str  # the Meeting's meeting_id
    occurred_at: AwareDatetime
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


CREATE_MEETING: Operation[MeetingRequest, Meeting] = Operation(
    "create_meeting",
    MeetingRequest,
    Meeting,
    sends=(DataCategory.APPOINTMENT,),
    description="a locked room for one confirmed consultation",
)
DELETE_MEETING: Operation[MeetingDeletion, None] = Operation(
    "delete_meeting",
    MeetingDeletion,
    None,
    sends=(),
    description="the room of a cancelled consultation, gone",
)
KIND = Kind(
    "video",
    "video consultations",
    VideoProvider,
    (CREATE_MEETING, DELETE_MEETING),
    events=(AttendanceEvent,),
)
