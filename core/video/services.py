"""A locked room per confirmed video appointment, its links shown only around the start,
deleted when the appointment is cancelled, and attendance from the provider's webhooks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import outbox
from praxis.core.accounts.restriction import is_restricted
from praxis.core.booking.events import (
    APPOINTMENT_CANCELLED,
    APPOINTMENT_CONFIRMED,
    APPOINTMENT_RESCHEDULED,
)
from praxis.core.booking.models import Appointment, AppointmentStatus, ConsultationMode
from praxis.core.crypto import Keyring
from praxis.core.db import utcnow
from praxis.core.outbox import Happened, Job, handles, subscribe
from praxis.core.providers.video import AttendanceEvent
from praxis.core.video.models import Attendance, VideoMeeting
from praxis.core.webhooks import applies
from praxis.tenants.directory import TenantInfo

CREATE_TOPIC = "video.create_meeting"
DELETE_TOPIC = "video.delete_meeting"
MOVE_TOPIC = "video.move_meeting"
GRACE = timedelta(minutes=30)  # the room stays open this long after the planned end
CONSUMER_EARLY = timedelta(minutes=10)  # the consumer's link appears this long before
HOST_EARLY = timedelta(minutes=15)
_SEAL = "video-room-url"

Role = Literal["consumer", "host"]


def meeting_jobs(tenant: TenantInfo, appointment_id: uuid.UUID, mode: str) -> list[dict[str, Any]]:
    """The room to create for a confirmed appointment, if it is by video and video is on."""
    if mode == ConsultationMode.VIDEO.value and tenant.providers.get("video"):
        return [outbox.job_row(tenant.id, CREATE_TOPIC, {"appointment_id": str(appointment_id)})]
    return []


@subscribe(APPOINTMENT_CONFIRMED)
async def room_for_confirmed(db: AsyncSession, happened: Happened) -> None:
    appointment_id = uuid.UUID(happened.payload["appointment_id"])
    happened.jobs.extend(meeting_jobs(happened.tenant, appointment_id, happened.payload["mode"]))


@subscribe(APPOINTMENT_CANCELLED)
async def no_room_for_cancelled(db: AsyncSession, happened: Happened) -> None:
    if happened.payload["mode"] == ConsultationMode.VIDEO.value:
        happened.follow_with(DELETE_TOPIC, {"appointment_id": happened.payload["appointment_id"]})


@subscribe(APPOINTMENT_RESCHEDULED)
async def room_follows_the_time(db: AsyncSession, happened: Happened) -> None:
    """A moved video appointment keeps a room open until its new end (a room not made yet
    is made for the new time anyway: its job reads the appointment when it runs)."""
    if happened.payload["mode"] == ConsultationMode.VIDEO.value and happened.payload["confirmed"]:
        happened.follow_with(MOVE_TOPIC, {"appointment_id": happened.payload["appointment_id"]})


@handles(MOVE_TOPIC)
async def move_meeting(job: Job) -> None:
    """A room that would close before the moved appointment ends is replaced: the old one
    deleted at the provider, a new one made, the same row pointing at it."""
    appointment_id = uuid.UUID(job.payload["appointment_id"])
    async with job.reading() as db:
        appointment = await db.scalar(select(Appointment).where(Appointment.id == appointment_id))
        meeting = await meeting_of(db, appointment_id)
        if appointment is not None and await is_restricted(db, appointment.consumer_id):
            return  # restricted (Art. 18): no provider is given anything new
    if appointment is None or meeting is None or meeting.deleted_at is not None:
        return  # no room yet (its creation reads the new time) or none any more
    if appointment.status != AppointmentStatus.BOOKED.value:
        return
    if meeting.ends_at >= appointment.ends_at + GRACE:
        return  # moved earlier: the room is open long enough
    facade = job.providers
    await facade.video.delete_meeting(
        meeting_id=meeting.meeting_ref, idempotency_key=f"{job.key}:delete"
    )
    made = await facade.video.create_meeting(
        subject_id=appointment.consumer_id,
        ends_at=appointment.ends_at + GRACE,
        idempotency_key=f"{job.key}:create",
        attempt=job.attempt,
    )
    keyring = job.keyring
    async with job.writing() as db:
        found = await meeting_of(db, appointment_id)
        if found is not None:
            found.meeting_ref = made.meeting_id
            found.room_url_sealed = keyring.seal(_SEAL, made.room_url)
            found.host_url_sealed = keyring.seal(_SEAL, made.host_room_url)
            found.ends_at = made.ends_at
        await job.done(db)
        await db.commit()


@handles(CREATE_TOPIC)
async def create_meeting(job: Job) -> None:
    appointment_id = uuid.UUID(job.payload["appointment_id"])
    async with job.reading() as db:
        appointment = await db.scalar(select(Appointment).where(Appointment.id == appointment_id))
        existing = await db.scalar(
            select(VideoMeeting).where(VideoMeeting.appointment_id == appointment_id)
        )
    if appointment is None or existing is not None:
        return
    if appointment.status != AppointmentStatus.BOOKED.value:
        return  # cancelled before the room was made: nothing to create
    async with job.reading() as db:
        if await is_restricted(db, appointment.consumer_id):
            return  # restricted (Art. 18): no provider is given anything new
    facade = job.providers
    meeting = await facade.video.create_meeting(
        subject_id=appointment.consumer_id,
        ends_at=appointment.ends_at + GRACE,
        idempotency_key=job.key,
        attempt=job.attempt,
    )
    plugin = (await facade.built("video")).manifest.name
    keyring = job.keyring
    async with job.writing() as db:
        db.add(
            VideoMeeting(
                appointment_id=appointment_id,
                plugin=plugin,
                meeting_ref=meeting.meeting_id,
                room_url_sealed=keyring.seal(_SEAL, meeting.room_url),
                host_url_sealed=keyring.seal(_SEAL, meeting.host_room_url),
                ends_at=meeting.ends_at,
            )
        )
        await job.done(db)
        await db.commit()


@handles(DELETE_TOPIC)
async def delete_meeting(job: Job) -> None:
    appointment_id = uuid.UUID(job.payload["appointment_id"])
    async with job.reading() as db:
        meeting = await db.scalar(
            select(VideoMeeting).where(VideoMeeting.appointment_id == appointment_id)
        )
    if meeting is None or meeting.deleted_at is not None:
        return  # never made, or already gone
    await job.providers.video.delete_meeting(
        meeting_id=meeting.meeting_ref, idempotency_key=job.key
    )
    async with job.writing() as db:
        found = await db.scalar(
            select(VideoMeeting).where(VideoMeeting.appointment_id == appointment_id)
        )
        if found is not None:
            found.deleted_at = utcnow()
        await job.done(db)
        await db.commit()


async def meeting_of(db: AsyncSession, appointment_id: uuid.UUID) -> VideoMeeting | None:
    """The room made for an appointment, if one was (deleted rooms included)."""
    return await db.scalar(
        select(VideoMeeting).where(VideoMeeting.appointment_id == appointment_id)
    )


@dataclass(frozen=True)
class RoomLink:
    """The link to show now, or when it will appear."""

    url: str | None
    opens_at: datetime
    closes_at: datetime
    ready: bool  # the room exists


async def room_link(
    db: AsyncSession, keyring: Keyring, appointment: Appointment, role: Role, *, now: datetime
) -> RoomLink:
    """The consumer's room link or the Professional's host link, only inside its window."""
    early = HOST_EARLY if role == "host" else CONSUMER_EARLY
    opens, closes = appointment.starts_at - early, appointment.ends_at + GRACE
    meeting = await db.scalar(
        select(VideoMeeting).where(VideoMeeting.appointment_id == appointment.id)
    )
    if meeting is None or meeting.deleted_at is not None:
        return RoomLink(None, opens, closes, ready=False)
    if not opens <= now <= closes or appointment.status != AppointmentStatus.BOOKED.value:
        return RoomLink(None, opens, closes, ready=True)
    sealed = meeting.host_url_sealed if role == "host" else meeting.room_url_sealed
    return RoomLink(keyring.unseal(_SEAL, sealed), opens, closes, ready=True)


@applies(AttendanceEvent)
async def apply_attendance(
    db: AsyncSession, tenant: TenantInfo, plugin: str, event: AttendanceEvent, now: datetime
) -> None:
    """Events may repeat and arrive in any order: first joins and the last end win."""
    meeting = await db.scalar(
        select(VideoMeeting).where(
            VideoMeeting.plugin == plugin, VideoMeeting.meeting_ref == event.meeting_id
        )
    )
    if meeting is None:
        return
    at = event.occurred_at
    db.add(
        Attendance(
            appointment_id=meeting.appointment_id,
            event=event.type,
            role=event.role,
            occurred_at=at,
        )
    )
    if event.type == "joined" and event.role == "host":
        meeting.host_joined_at = _earliest(meeting.host_joined_at, at)
    elif event.type == "joined" and event.role == "visitor":
        meeting.visitor_joined_at = _earliest(meeting.visitor_joined_at, at)
    elif event.type == "session_started":
        meeting.session_started_at = _earliest(meeting.session_started_at, at)
    elif event.type == "session_ended":
        meeting.session_ended_at = max(meeting.session_ended_at or at, at)


def _earliest(current: datetime | None, new: datetime) -> datetime:
    return new if current is None else min(current, new)
