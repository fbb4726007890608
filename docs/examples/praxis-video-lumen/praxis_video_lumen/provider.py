"""``LumenVideo``: one locked Lumen room per consultation, found again on a retry."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from praxis.core.providers.common import (
    PermanentFailure,
    ProviderContext,
    WebhookReply,
    WebhookRequest,
)
from praxis.core.providers.video import AttendanceEvent, Meeting, MeetingDeletion, MeetingRequest

from praxis_video_lumen.api import LumenApi, LumenRoom
from praxis_video_lumen.settings import LumenSettings
from praxis_video_lumen.webhooks import attendance_event, verify


def room_reference(idempotency_key: str) -> str:
    """The same reference on every attempt of one job, and nothing Lumen could read into."""
    return "praxis-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


class LumenVideo:
    """A ``VideoProvider`` for one clinic's Lumen account.

    Lumen takes no idempotency key, so each room carries a reference made from the platform's
    key, and a later attempt looks for it before making another.
    """

    webhook_reply = WebhookReply()  # Lumen wants any 2xx; an empty body will do

    def __init__(self, context: ProviderContext[LumenSettings]) -> None:
        self._api = LumenApi(context.http, context.settings)
        self._webhook_secret = context.settings.webhook_secret.get_secret_value().encode()

    async def create_meeting(self, request: MeetingRequest) -> Meeting:
        reference = room_reference(request.idempotency_key)
        retry = request.attempt > 1
        if retry:  # the answer to an earlier attempt may have been lost after Lumen made it
            earlier = await self._api.find_room(reference)
            if earlier is not None:
                return _meeting(earlier, recovered=True)
        room = await self._api.create_room(
            reference=reference, ends_at=_utc(request.ends_at), locked=request.is_locked
        )
        return _meeting(room, recovered=False if retry else None)

    async def delete_meeting(self, request: MeetingDeletion) -> None:
        await self._api.delete_room(request.meeting_id)

    def parse_webhook(self, request: WebhookRequest) -> AttendanceEvent | None:
        header = request.headers.get("lumen-signature")
        verify(header, request.body, self._webhook_secret, request.received_at)
        return attendance_event(request.body)


def _meeting(room: LumenRoom, *, recovered: bool | None) -> Meeting:
    return Meeting(
        meeting_id=room.id,  # what Lumen's webhooks call room_id
        room_url=room.guest_url,
        host_room_url=room.host_url,
        ends_at=room.ends_at,
        recovered=recovered,
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # a naive time is ambiguous: refuse rather than guess a zone
        raise PermanentFailure("the meeting's end time has no time zone")
    return moment.astimezone(UTC)
