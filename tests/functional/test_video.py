"""The video room: one locked room per confirmed video appointment, links only inside their
windows (the host's never on a consumer's page), deleted on cancellation, and attendance
from Whereby's signed webhooks whatever their order."""

from __future__ import annotations

import json
import random
import secrets
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from praxis.core.runtime import Runtime
from praxis.core.sandbox.whereby import FakeMeeting, iso, sign
from praxis.core.video.models import Attendance, VideoMeeting
from praxis.core.video.services import CREATE_TOPIC, DELETE_TOPIC
from tests.functional.flows import (
    answer_intake,
    appointment,
    book_and_pay,
    jobs,
    signed_in,
    travel_to,
)
from tests.provider_fixtures import WHEREBY_SECRET, Providers
from tests.support import Clinic, post_form


async def room(rt: Runtime, clinic: Clinic, appointment_id: uuid.UUID) -> VideoMeeting | None:
    async with rt.database.reading(clinic.tenant.id) as db:
        return await db.scalar(
            select(VideoMeeting).where(VideoMeeting.appointment_id == appointment_id)
        )


def only_meeting(providers: Providers) -> FakeMeeting:
    (meeting,) = providers.whereby.meetings.values()
    return meeting


async def test_a_confirmed_video_appointment_gets_a_locked_room_and_in_person_none(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    in_person = await book_and_pay(consumer, clinic, providers, "Long", days_ahead=2)
    await providers.run_jobs()
    assert await jobs(rt, clinic, CREATE_TOPIC) == []
    assert providers.whereby.meetings == {} and await room(rt, clinic, in_person) is None
    assert "Video consultation" not in (await consumer.get(f"/appointments/{in_person}")).text

    video = await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await providers.run_jobs()
    meeting = only_meeting(providers)
    assert meeting.is_locked and meeting.room_mode == "normal"
    booked = await appointment(rt, clinic, video)
    assert meeting.end_date >= booked.ends_at  # open until the end (and a little grace)
    stored = await room(rt, clinic, video)
    assert stored is not None and stored.meeting_ref == meeting.meeting_id
    # Both links are sealed at rest: neither appears in the row as stored.
    assert meeting.room_url not in stored.room_url_sealed
    assert meeting.host_key not in stored.host_url_sealed
    (created,) = [r for r in providers.whereby.requests if r.method == "POST"]
    assert created.body["isLocked"] is True
    assert set(created.body) <= {
        "endDate",
        "isLocked",
        "roomMode",
        "roomNamePrefix",
        "roomNamePattern",
        "fields",
    }  # nothing about the people in it


async def test_links_appear_only_inside_their_windows_and_consumers_never_see_the_host_link(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book_and_pay(consumer, clinic, providers, days_ahead=2)
    await answer_intake(consumer, appointment_id)
    await providers.run_jobs()
    meeting = only_meeting(providers)
    pro = await signed_in(app, clinic, clinic.professional.username)
    booked = await appointment(rt, clinic, appointment_id)
    start, end = booked.starts_at, booked.ends_at
    mine, theirs = f"/appointments/{appointment_id}", f"/workspace/appointments/{appointment_id}"
    consumer_pages: list[str] = []

    async def consumer_sees() -> bool:
        page = await consumer.get(mine)
        join = await consumer.get(f"{mine}/join")
        listing = await consumer.get("/appointments")
        consumer_pages.extend([page.text, listing.text, join.headers.get("location", "")])
        assert join.status_code == 303
        if "Join the video consultation" not in page.text:
            assert join.headers["location"] == mine  # refused: back to the appointment
            return False
        assert join.headers["location"] == meeting.room_url
        return True

    async def host_sees() -> bool:
        page = await pro.get(theirs)
        host = await pro.get(f"{theirs}/host")
        assert host.status_code == 303
        if "Open the room as host" not in page.text:
            assert host.headers["location"] == theirs
            return False
        assert host.headers["location"] == meeting.host_room_url
        return True

    moments = [
        (start - timedelta(days=1), False, False),
        (start - timedelta(minutes=15, seconds=1), False, False),
        (start - timedelta(minutes=15), False, True),
        (start - timedelta(minutes=10, seconds=1), False, True),
        (start - timedelta(minutes=10), True, True),
        (start + timedelta(minutes=20), True, True),
        (end + timedelta(minutes=30), True, True),
        (end + timedelta(minutes=30, seconds=1), False, False),
    ]
    for moment, consumer_link, host_link in moments:
        travel_to(monkeypatch, moment)
        assert await consumer_sees() is consumer_link, moment
        assert await host_sees() is host_link, moment

    travel_to(monkeypatch, start)
    for path in ("/account/disclosures", "/api/v1/appointments", f"/api/v1{mine}"):
        shown = await consumer.get(path)
        assert shown.status_code == 200, path
        consumer_pages.append(shown.text)
    for text in consumer_pages:
        assert meeting.host_room_url not in text
        assert meeting.host_key not in text and "roomKey" not in text


async def test_cancelling_deletes_the_room_at_the_provider(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await answer_intake(consumer, appointment_id)
    await providers.run_jobs()
    meeting = only_meeting(providers)
    page = f"/appointments/{appointment_id}"
    cancelled = await post_form(consumer, f"{page}/cancel", {}, page=page)
    assert cancelled.status_code == 303, cancelled.text
    assert providers.whereby.meetings  # nothing leaves in the request itself: the outbox does it
    (deletion,) = await jobs(rt, clinic, DELETE_TOPIC)

    await providers.run_jobs()
    assert providers.whereby.meetings == {}
    deletes = [r for r in providers.whereby.requests if r.method == "DELETE"]
    assert [r.path for r in deletes] == [f"/v1/meetings/{meeting.meeting_id}"]
    stored = await room(rt, clinic, appointment_id)
    assert stored is not None and stored.deleted_at is not None
    assert (await jobs(rt, clinic, DELETE_TOPIC))[0].status == "done"
    assert deletion.payload == {"appointment_id": str(appointment_id)}

    # No link any more, even at the time it would have opened.
    travel_to(monkeypatch, (await appointment(rt, clinic, appointment_id)).starts_at)
    join = await consumer.get(f"{page}/join")
    assert join.status_code == 303 and join.headers["location"] == page
    pro = await signed_in(app, clinic, clinic.professional.username)
    host = await pro.get(f"/workspace/appointments/{appointment_id}/host")
    assert host.headers["location"] == f"/workspace/appointments/{appointment_id}"


async def test_a_room_is_never_made_for_an_appointment_cancelled_before_its_job_ran(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book_and_pay(consumer, clinic, providers, days_ahead=3)
    page = f"/appointments/{appointment_id}"
    await post_form(consumer, f"{page}/cancel", {}, page=page)
    await providers.run_jobs()
    assert providers.whereby.requests == [] and providers.whereby.meetings == {}
    assert await room(rt, clinic, appointment_id) is None
    assert {j.status for j in await jobs(rt, clinic)} == {"done"}


def whereby_event(meeting_id: str, kind: str, at: datetime, role: str | None = None) -> bytes:
    data: dict[str, Any] = {"meetingId": meeting_id, "roomName": "/px-room", "roomSessionId": "s1"}
    if role:
        data |= {"roleName": role, "participantId": secrets.token_hex(8), "displayName": "Guest"}
    body = {"id": secrets.token_hex(16), "apiVersion": "1.0", "createdAt": iso(at), "type": kind}
    return json.dumps({**body, "data": data}).encode()


async def deliver(client: httpx.AsyncClient, body: bytes) -> None:
    headers = {
        "Content-Type": "application/json",
        "Whereby-Signature": sign(WHEREBY_SECRET, body, int(time.time())),
    }
    answer = await client.post("/-/plugins/video_whereby/webhook", content=body, headers=headers)
    assert answer.status_code == 200, answer.text


async def test_attendance_in_any_order_and_repeated_gives_the_right_times(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book_and_pay(consumer, clinic, providers, days_ahead=2)
    await providers.run_jobs()
    meeting_id = only_meeting(providers).meeting_id
    start = (await appointment(rt, clinic, appointment_id)).starts_at
    at = {minutes: start + timedelta(minutes=minutes) for minutes in range(-10, 40)}
    bodies = [
        whereby_event(meeting_id, "room.client.joined", at[-3], "host"),
        whereby_event(meeting_id, "room.client.joined", at[-1], "granted_visitor"),
        whereby_event(meeting_id, "room.session.started", at[-1]),
        whereby_event(meeting_id, "room.client.left", at[8], "granted_visitor"),
        whereby_event(meeting_id, "room.session.ended", at[8]),
        whereby_event(meeting_id, "room.client.joined", at[10], "granted_visitor"),  # back again
        whereby_event(meeting_id, "room.session.started", at[10]),
        whereby_event(meeting_id, "room.client.joined", at[12], "host"),  # reconnected
        whereby_event(meeting_id, "room.session.ended", at[29]),
        whereby_event(meeting_id, "room.client.left", at[29], "host"),
        whereby_event(meeting_id, "room.client.joined", at[5], "viewer"),  # nobody we know of
        whereby_event("another-clinics-meeting", "room.client.joined", at[0], "host"),
    ]
    shuffled = list(reversed(bodies))
    random.Random(7).shuffle(shuffled)
    for body in [*shuffled, *bodies]:  # in any order, and every one of them twice
        await deliver(consumer, body)

    stored = await room(rt, clinic, appointment_id)
    assert stored is not None
    assert stored.host_joined_at == at[-3]
    assert stored.visitor_joined_at == at[-1]
    assert stored.session_started_at == at[-1]
    assert stored.session_ended_at == at[29]
    async with rt.database.reading(clinic.tenant.id) as db:
        kept = await db.scalar(select(func.count()).select_from(Attendance))
    assert kept == 10  # each event once; the viewer's and the stranger's are not ours

    pro = await signed_in(app, clinic, clinic.professional.username)
    page = await pro.get(f"/workspace/appointments/{appointment_id}")
    local = clinic.tenant.zone
    assert f"You joined: {at[-3].astimezone(local):%H:%M}" in page.text
    assert (
        f"Session: from {at[-1].astimezone(local):%H:%M} to {at[29].astimezone(local):%H:%M}"
        in (page.text)
    )
