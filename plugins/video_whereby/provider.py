"""The VideoProvider for Whereby: one locked, transient room per consultation."""

from __future__ import annotations

import hashlib
from contextlib import aclosing
from datetime import UTC, datetime

from praxis.core.providers.common import (
    PermanentFailure,
    ProviderContext,
    TemporaryFailure,
    WebhookReply,
    WebhookRequest,
)
from praxis.core.providers.video import AttendanceEvent, Meeting, MeetingDeletion, MeetingRequest

from .api import WherebyApi, WherebyMeeting
from .settings import WherebySettings
from .webhooks import parse_event, verify_signature

_PREFIX_TAG = "px"  # marks rooms made by Praxis in an organisation the clinic may use for more


def room_name_prefix(idempotency_key: str) -> str:
    """The same prefix on every retry of one job: how a later attempt finds its room."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return _PREFIX_TAG + digest  # 34 characters of [a-z0-9]: Whereby allows 39


class WherebyVideo:
    """A clinic's Whereby Embedded organisation, seen through the platform's shared client."""

    def __init__(self, context: ProviderContext[WherebySettings]) -> None:
        self._settings = context.settings
        self._api = WherebyApi(context.http, context.settings)

    async def create_meeting(self, request: MeetingRequest) -> Meeting:
        prefix = room_name_prefix(request.idempotency_key)
        retry = request.attempt > 1
        if retry:  # Whereby takes no idempotency key: look for our room first
            found = await self._find(prefix)
            if found is not None:
                return _meeting(found, recovered=True)
        created = await self._api.create(
            {
                "endDate": _utc(request.ends_at),
                "isLocked": request.is_locked,
                "roomMode": "normal",
                "roomNamePrefix": prefix,
                "roomNamePattern": "uuid",
                "fields": ["hostRoomUrl"],
            }
        )
        return _meeting(created, recovered=False if retry else None)

    async def delete_meeting(self, request: MeetingDeletion) -> None:
        await self._api.delete(request.meeting_id)

    def parse_webhook(self, request: WebhookRequest) -> AttendanceEvent | None:
        secret = self._settings.webhook_secret.get_secret_value().encode("utf-8")
        header = request.headers.get("whereby-signature")
        verify_signature(header, request.body, secret, request.received_at)
        return parse_event(request.body)

    @property
    def webhook_reply(self) -> WebhookReply:
        return WebhookReply()

    async def _find(self, prefix: str) -> WherebyMeeting | None:
        async with aclosing(self._api.meetings(fields="hostRoomUrl")) as meetings:  # stop paging
            async for meeting in meetings:
                if meeting.room_name.lstrip("/").startswith(prefix + "-"):
                    return meeting
        return None


def _meeting(found: WherebyMeeting, *, recovered: bool | None) -> Meeting:
    if not found.host_room_url:  # we always ask for it; the next attempt finds the room again
        raise TemporaryFailure("Whereby sent a meeting without its host room URL")
    return Meeting(
        meeting_id=found.meeting_id,
        room_url=found.room_url,
        host_room_url=found.host_room_url,
        ends_at=found.end_date,
        recovered=recovered,
    )


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:  # a naive time is ambiguous: refuse rather than guess a zone
        raise PermanentFailure("the meeting's end time has no time zone")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
