"""The Whereby plugin against the fake Whereby, over real sockets with a real httpx client."""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import HttpUrl, SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

import praxis.plugins.video_whereby as plugin
from praxis.core.providers.common import (
    PermanentFailure,
    ProviderContext,
    TemporaryFailure,
    WebhookRejected,
    WebhookReply,
)
from praxis.core.providers.video import MeetingDeletion, MeetingRequest, VideoProvider
from praxis.core.sandbox.harness import Delivery, start
from praxis.core.sandbox.whereby import FakeWhereby, sign, webhook_request
from praxis.plugins.video_whereby import WherebySettings, WherebyVideo
from praxis.plugins.video_whereby.provider import room_name_prefix

KEY = "clinic-alpha-api-key"
OTHER_KEY = "clinic-beta-api-key"
SECRET = "whereby-webhook-secret-alpha"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeWhereby, str]]:
    fake = FakeWhereby()
    running = start(fake.app)
    try:
        yield fake, running.url
    finally:
        running.stop()


@pytest.fixture
def fake(served: tuple[FakeWhereby, str]) -> FakeWhereby:
    fake = served[0]
    fake.reset()
    fake.add_api_key(
        KEY,
        webhook_url="http://alpha.localhost/-/plugins/video_whereby/webhook/",
        webhook_secret=SECRET,
    )
    fake.add_api_key(OTHER_KEY, webhook_secret="beta-secret")
    return fake


@pytest.fixture
def url(served: tuple[FakeWhereby, str]) -> str:
    return served[1]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2) as client:
        yield client


def video(http: httpx.AsyncClient, url: str, *, key: str = KEY) -> WherebyVideo:
    settings = WherebySettings(
        api_key=SecretStr(key),
        webhook_secret=SecretStr(SECRET),
        api_base_url=HttpUrl(f"{url}/v1"),
    )
    context = ProviderContext(
        settings=settings,
        http=http,
        tenant_slug="alpha",
        tenant_name="Alpha Clinic",
        public_url="http://alpha.localhost",
        webhook_url="http://alpha.localhost/-/plugins/video_whereby/webhook/",
    )
    return WherebyVideo(context)


def in_an_hour() -> datetime:
    return (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)


def job(key: str = "job-1", *, attempt: int = 1, ends_at: datetime | None = None) -> MeetingRequest:
    return MeetingRequest(idempotency_key=key, attempt=attempt, ends_at=ends_at or in_an_hour())


def posts(fake: FakeWhereby) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST"]


# --- the plugin ------------------------------------------------------------------------------


def test_the_plugin_registers_a_video_provider(http: httpx.AsyncClient) -> None:
    assert plugin.praxis_register_providers() is WherebyVideo
    assert isinstance(video(http, "http://127.0.0.1:1"), VideoProvider)
    assert video(http, "http://127.0.0.1:1").webhook_reply == WebhookReply()
    manifest = plugin.praxis_manifest()
    assert [use.operation for use in manifest.data] == ["create_meeting"]  # delete sends nobody
    schema = manifest.public()["settings_schema"]["properties"]
    assert schema["api_base_url"]["praxis_operator_only"] is True
    assert "praxis_operator_only" not in schema["api_key"]
    assert schema["api_key"]["format"] == "password"


def test_the_room_name_prefix_is_the_jobs_own_and_fits_whereby() -> None:
    prefix = room_name_prefix("outbox:42:create_meeting")
    assert prefix == room_name_prefix("outbox:42:create_meeting")
    assert prefix != room_name_prefix("outbox:43:create_meeting")
    assert re.fullmatch(r"[a-z0-9]{0,39}", prefix)


async def test_a_meeting_is_a_locked_room_with_a_host_url(
    fake: FakeWhereby, url: str, http: httpx.AsyncClient
) -> None:
    ends_at = in_an_hour()
    meeting = await video(http, url).create_meeting(job("job-1", ends_at=ends_at))

    [sent] = posts(fake)
    assert sent.path == "/v1/meetings" and sent.status == 201
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.body == {
        "endDate": ends_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "isLocked": True,
        "roomMode": "normal",
        "roomNamePrefix": room_name_prefix("job-1"),
        "roomNamePattern": "uuid",
        "fields": ["hostRoomUrl"],
    }
    stored = fake.meetings[meeting.meeting_id]
    assert stored.is_locked and stored.api_key == KEY
    assert stored.room_name.startswith(f"/{room_name_prefix('job-1')}-")
    assert meeting.room_url == f"{url}/room{stored.room_name}"
    assert meeting.host_room_url.startswith(meeting.room_url + "?roomKey=")
    assert meeting.ends_at == ends_at


async def test_a_retry_after_a_lost_answer_finds_the_same_room(
    fake: FakeWhereby, url: str, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("praxis.plugins.video_whereby.api._PAGE_SIZE", 2)  # make the cursor matter
    provider = video(http, url)
    for other in ("job-a", "job-b", "job-c"):
        await provider.create_meeting(job(other))
    first = await provider.create_meeting(job("job-1"))  # its answer "was lost"
    fake.requests.clear()

    again = await provider.create_meeting(job("job-1", attempt=2))

    assert first.recovered is None  # a first attempt has nothing to find
    assert again == dataclasses.replace(first, recovered=True)  # the room it made, found
    assert len(fake.meetings) == 4
    assert [(r.method, r.query.get("cursor") is not None) for r in fake.requests] == [
        ("GET", False),
        ("GET", True),
    ]
    assert fake.requests[0].query["fields"] == "hostRoomUrl"


async def test_a_retry_with_no_room_yet_makes_one(
    fake: FakeWhereby, url: str, http: httpx.AsyncClient
) -> None:
    provider = video(http, url)
    await video(http, url, key=OTHER_KEY).create_meeting(job("job-1"))  # another clinic's room

    meeting = await provider.create_meeting(job("job-1", attempt=3))

    assert [r.method for r in fake.requests[1:]] == ["GET", "POST"]
    assert fake.meetings[meeting.meeting_id].api_key == KEY


async def test_a_deleted_meeting_may_be_deleted_again(
    fake: FakeWhereby, url: str, http: httpx.AsyncClient
) -> None:
    provider = video(http, url)
    meeting = await provider.create_meeting(job())
    deletion = MeetingDeletion(meeting_id=meeting.meeting_id, idempotency_key="job-2")

    await provider.delete_meeting(deletion)
    await provider.delete_meeting(deletion)

    assert fake.meetings == {}
    deletes = [r for r in fake.requests if r.method == "DELETE"]
    assert [(r.path, r.status) for r in deletes] == [
        (f"/v1/meetings/{meeting.meeting_id}", 204)
    ] * 2


# --- errors ----------------------------------------------------------------------------------


async def test_a_throttled_call_is_retried_after_what_whereby_says(
    fake: FakeWhereby, url: str, http: httpx.AsyncClient
) -> None:
    fake.faults.throttle_next(retry_after=7)
    with pytest.raises(TemporaryFailure) as caught:
        await video(http, url).create_meeting(job())
    assert caught.value.retry_after == 7
    assert fake.meetings == {}


async def test_without_retry_after_the_wait_comes_from_ms_left() -> None:
    def throttled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"error": "Rate limit", "data": {"msLeft": 38689}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(throttled)) as client:
        with pytest.raises(TemporaryFailure) as caught:
            await video(client, "https://api.whereby.test").create_meeting(job())
    assert caught.value.retry_after == pytest.approx(38.689)


@pytest.mark.parametrize("status", [404, 410])
async def test_a_meeting_whereby_no_longer_knows_counts_as_deleted(status: int) -> None:
    asked: list[tuple[str, str]] = []

    def gone(request: httpx.Request) -> httpx.Response:
        asked.append((request.method, request.url.path))
        return httpx.Response(status, json={"error": "Meeting not found"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(gone)) as client:
        deleted = await video(client, "https://api.whereby.test").delete_meeting(
            MeetingDeletion("m-1", "k")
        )
    assert deleted is None  # done: nothing raised, so the job is not retried
    assert asked == [("DELETE", "/v1/meetings/m-1")]


async def test_a_meeting_whereby_refuses_to_delete_is_not_counted_as_deleted() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": "Forbidden"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(refused)) as client:
        with pytest.raises(PermanentFailure, match="403"):
            await video(client, "https://api.whereby.test").delete_meeting(
                MeetingDeletion("m", "k")
            )


async def test_a_server_error_is_temporary(
    fake: FakeWhereby, url: str, http: httpx.AsyncClient
) -> None:
    fake.faults.fail_next(status=503)
    with pytest.raises(TemporaryFailure) as caught:
        await video(http, url).delete_meeting(MeetingDeletion("m-1", "job-1"))
    assert caught.value.retry_after is None
    assert "503" in caught.value.reason


async def test_a_timeout_is_temporary(fake: FakeWhereby, url: str) -> None:
    fake.faults.time_out_next(delay=0.6)
    async with httpx.AsyncClient(timeout=0.15) as impatient:
        with pytest.raises(TemporaryFailure, match="in time"):
            await video(impatient, url).create_meeting(job())


async def test_an_unreachable_whereby_is_temporary(http: httpx.AsyncClient) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(TemporaryFailure, match="reached"):
        await video(http, f"http://127.0.0.1:{closed}").create_meeting(job())


async def test_a_wrong_key_is_permanent_and_not_repeated(
    fake: FakeWhereby, url: str, http: httpx.AsyncClient
) -> None:
    with pytest.raises(PermanentFailure) as caught:
        await video(http, url, key="not-a-key-of-ours").create_meeting(job())
    assert caught.value.code == "unauthorized"
    assert "not-a-key-of-ours" not in caught.value.reason
    assert fake.requests[-1].status == 401 and fake.meetings == {}


async def test_an_end_in_the_past_is_permanent(
    fake: FakeWhereby, url: str, http: httpx.AsyncClient
) -> None:
    past = datetime.now(UTC) - timedelta(minutes=5)
    with pytest.raises(PermanentFailure) as caught:
        await video(http, url).create_meeting(job(ends_at=past))
    assert caught.value.code == "http_400"
    assert fake.requests[-1].status == 400


async def test_a_naive_end_is_refused_before_anything_is_sent(
    fake: FakeWhereby, url: str, http: httpx.AsyncClient
) -> None:
    with pytest.raises(PermanentFailure, match="time zone"):
        await video(http, url).create_meeting(job(ends_at=datetime(2030, 1, 1, 12)))
    assert fake.requests == []


# --- webhooks --------------------------------------------------------------------------------


async def test_attendance_events_from_the_fake_parse(
    fake: FakeWhereby, url: str, http: httpx.AsyncClient
) -> None:
    provider = video(http, url)
    meeting = await provider.create_meeting(job())

    await fake.join(meeting.meeting_id, role="host")
    await fake.join(meeting.meeting_id, role="visitor")
    await fake.leave(meeting.meeting_id, role="visitor")
    await fake.leave(meeting.meeting_id, role="host")

    deliveries = fake.webhooks.deliveries
    assert {d.url for d in deliveries} == {
        "http://alpha.localhost/-/plugins/video_whereby/webhook/"
    }
    bodies = [json.loads(d.body) for d in deliveries]
    assert [(b["type"], b["data"].get("roleName")) for b in bodies] == [
        ("room.client.joined", "host"),
        ("room.client.joined", "granted_visitor"),  # the room is locked: let in by the host
        ("room.session.started", None),
        ("room.client.left", "granted_visitor"),
        ("room.session.ended", None),
        ("room.client.left", "host"),
    ]
    events = [provider.parse_webhook(webhook_request(d)) for d in deliveries]
    assert [(e.type, e.role) for e in events if e] == [
        ("joined", "host"),
        ("joined", "visitor"),
        ("session_started", None),
        ("left", "visitor"),
        ("session_ended", None),
        ("left", "host"),
    ]
    assert all(e and e.meeting_id == meeting.meeting_id for e in events)
    assert len({e.event_id for e in events if e}) == 6
    assert all(e and e.occurred_at.tzinfo is not None for e in events)


def signed(
    body: dict[str, Any] | bytes, *, secret: str = SECRET, at: int | None = None
) -> Delivery:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = sign(secret, raw, int(time.time()) if at is None else at)
    return Delivery("", {"Whereby-Signature": header}, raw)


def event(kind: str, **data: Any) -> dict[str, Any]:
    return {
        "id": "evt-1",
        "apiVersion": "1.0",
        "createdAt": "2030-01-21T16:29:59.681Z",
        "type": kind,
        "data": {"meetingId": "134", "roomName": "/px-room", **data},
    }


@pytest.mark.parametrize(
    ("role_name", "role"),
    [
        ("host", "host"),
        ("owner", "host"),
        ("member", "host"),
        ("visitor", "visitor"),
        ("granted_visitor", "visitor"),
    ],
)
def test_roles_map_to_host_or_visitor(http: httpx.AsyncClient, role_name: str, role: str) -> None:
    delivery = signed(event("room.client.joined", roleName=role_name))
    parsed = video(http, "http://127.0.0.1:1").parse_webhook(webhook_request(delivery))
    assert parsed is not None
    assert (parsed.event_id, parsed.type, parsed.meeting_id, parsed.role) == (
        "evt-1",
        "joined",
        "134",
        role,
    )
    assert parsed.occurred_at == datetime(2030, 1, 21, 16, 29, 59, 681000, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        event("room.client.knocked", roleName="visitor"),
        event("recording.finished"),
        event("room.client.joined", roleName="recorder"),  # a bot, not a person
        event("room.client.left", roleName="viewer"),  # we make no viewer links
        event("room.client.joined"),  # who, then?
    ],
)
def test_events_the_platform_does_not_use_are_none(
    http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    provider = video(http, "http://127.0.0.1:1")
    assert provider.parse_webhook(webhook_request(signed(body))) is None


def test_any_of_several_signatures_may_match(http: httpx.AsyncClient) -> None:
    delivery = signed(event("room.session.started"))
    header = delivery.headers["Whereby-Signature"].replace("v1=", "v1=" + "0" * 64 + ",v1=")
    request = webhook_request(replace(delivery, headers={"Whereby-Signature": header}))
    parsed = video(http, "http://127.0.0.1:1").parse_webhook(request)
    assert parsed is not None and parsed.type == "session_started"


LEFT = event("room.client.left", roleName="host")


@pytest.mark.parametrize(
    ("make", "delay", "why"),
    [
        (lambda t: signed(LEFT, secret="forged", at=t), 0, "does not match"),
        (lambda t: replace(signed(LEFT, at=t), body=json.dumps(LEFT).encode() + b" "), 0, "match"),
        (lambda t: signed(LEFT, at=t), 301, "tolerance"),
        (lambda t: signed(LEFT, at=t + 301), 0, "tolerance"),
        (lambda t: Delivery("", {}, json.dumps(LEFT).encode()), 0, "missing"),
        (lambda t: Delivery("", {"Whereby-Signature": "v1=abc"}, b"{}"), 0, "t="),
        (lambda t: Delivery("", {"Whereby-Signature": f"t={t}"}, b"{}"), 0, "v1="),
        (lambda t: signed(b"{not json", at=t), 0, "not a Whereby event"),
        (lambda t: signed(LEFT | {"createdAt": "yesterday"}, at=t), 0, "not a Whereby event"),
        (lambda t: signed(LEFT | {"data": {"roleName": "host"}}, at=t), 0, "meetingId"),
    ],
    ids=[
        "forged",
        "tampered",
        "stale",
        "from-the-future",
        "missing-header",
        "no-timestamp",
        "no-signature",
        "malformed-json",
        "bad-date",
        "no-meeting",
    ],
)
def test_bad_webhooks_are_rejected(
    http: httpx.AsyncClient, make: Callable[[int], Delivery], delay: int, why: str
) -> None:
    now = int(time.time())
    arrived = datetime.fromtimestamp(now + delay, UTC)
    provider = video(http, "http://127.0.0.1:1")
    with pytest.raises(WebhookRejected, match=why):
        provider.parse_webhook(webhook_request(make(now), received_at=arrived))


def test_a_signature_300_seconds_old_still_counts(http: httpx.AsyncClient) -> None:
    now = int(time.time())
    arrived = datetime.fromtimestamp(now + 300, UTC)
    request = webhook_request(signed(LEFT, at=now), received_at=arrived)
    assert video(http, "http://127.0.0.1:1").parse_webhook(request) is not None


async def test_the_fake_pushes_signed_webhooks_when_asked() -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def receiver(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    sink = start(Starlette(routes=[Route("/hook", receiver, methods=["POST"])]))
    fake = FakeWhereby(push=True)
    api = start(fake.app)
    try:
        fake.add_api_key(KEY, webhook_url=f"{sink.url}/hook", webhook_secret=SECRET)
        async with httpx.AsyncClient(timeout=2) as http:
            meeting = await video(http, api.url).create_meeting(job())
            await fake.join(meeting.meeting_id, role="host")
            [headers, body] = received[0]
            parsed = video(http, api.url).parse_webhook(
                webhook_request(fake.webhooks.deliveries[0])
            )
    finally:
        api.stop()
        sink.stop()
    assert fake.webhooks.deliveries[0].status == 204
    assert headers["whereby-signature"].startswith("t=")
    assert json.loads(body)["type"] == "room.client.joined"
    assert parsed is not None and parsed.role == "host"


# --- the fake keeps to the contract ----------------------------------------------------------


def api(url: str, key: str = KEY) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{url}/v1", headers={"Authorization": f"Bearer {key}"}, timeout=2
    )


async def test_the_fake_pages_meetings_with_a_cursor(fake: FakeWhereby, url: str) -> None:
    async with api(url) as client:
        made = []
        for _ in range(5):
            response = await client.post("/meetings", json={"endDate": in_an_hour().isoformat()})
            assert response.status_code == 201
            made.append(response.json()["meetingId"])
        async with api(url, OTHER_KEY) as other:
            await other.post("/meetings", json={"endDate": in_an_hour().isoformat()})

        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/meetings", params=params)).json()
            seen += [m["meetingId"] for m in page["results"]]
            pages += 1
            cursor = page["cursor"]
            if cursor is None:
                break
        default = (await client.get("/meetings")).json()
    assert seen == made and pages == 3
    assert len(default["results"]) == 5 and default["cursor"] is None


async def test_the_fake_returns_host_urls_only_when_asked(fake: FakeWhereby, url: str) -> None:
    async with api(url) as client:
        created = (
            await client.post("/meetings", json={"endDate": in_an_hour().isoformat()})
        ).json()
        plain = (await client.get(f"/meetings/{created['meetingId']}")).json()
        both = (
            await client.get(
                f"/meetings/{created['meetingId']}", params={"fields": "hostRoomUrl,viewerRoomUrl"}
            )
        ).json()
    assert set(created) == {"meetingId", "roomName", "roomUrl", "startDate", "endDate"}
    assert plain == created
    assert {"hostRoomUrl", "viewerRoomUrl"} <= set(both)
    assert created["endDate"].endswith("Z")


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "status"),
    [
        ("GET", "/meetings/no-such-meeting", {}, None, 404),
        ("GET", "/meetings", {"limit": "0"}, None, 400),
        ("GET", "/meetings", {"limit": "101"}, None, 400),
        ("GET", "/meetings", {"limit": "ten"}, None, 400),
        ("GET", "/meetings", {"fields": "hostRoomUrl,secrets"}, None, 400),
        ("GET", "/meetings", {"cursor": "made-up"}, None, 400),
        ("POST", "/meetings", {}, {}, 400),
        ("POST", "/meetings", {}, {"endDate": "tomorrow"}, 400),
        ("POST", "/meetings", {}, {"endDate": "2099-01-01"}, 400),
        ("POST", "/meetings", {}, {"endDate": "2099-01-01T10:00:00Z", "roomMode": "big"}, 400),
        ("POST", "/meetings", {}, {"endDate": "2099-01-01T10:00:00Z", "isLocked": "yes"}, 400),
        ("POST", "/meetings", {}, {"endDate": "2099-01-01T10:00:00Z", "roomNamePrefix": "Px"}, 400),
        (
            "POST",
            "/meetings",
            {},
            {"endDate": "2099-01-01T10:00:00Z", "roomNamePrefix": "a" * 40},
            400,
        ),
        ("POST", "/meetings", {}, {"endDate": "2099-01-01T10:00:00Z", "fields": ["roomKey"]}, 400),
        (
            "POST",
            "/meetings",
            {},
            {"endDate": "2099-01-01T10:00:00Z", "roomNamePatern": "uuid"},
            400,
        ),
        ("POST", "/meetings", {}, {"endDate": "2099-01-01T10:00:00+02:00"}, 201),
        ("DELETE", "/meetings/no-such-meeting", {}, None, 204),
    ],
)
async def test_the_fake_checks_the_contract(
    fake: FakeWhereby,
    url: str,
    method: str,
    path: str,
    params: dict[str, str],
    body: Any,
    status: int,
) -> None:
    async with api(url) as client:
        response = await client.request(method, path, params=params, json=body)
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error"]


async def test_the_fake_keeps_each_organisations_meetings_apart(
    fake: FakeWhereby, url: str
) -> None:
    async with api(url) as alpha, api(url, OTHER_KEY) as beta:
        created = (await alpha.post("/meetings", json={"endDate": in_an_hour().isoformat()})).json()
        assert (await beta.get(f"/meetings/{created['meetingId']}")).status_code == 404
        assert (await beta.delete(f"/meetings/{created['meetingId']}")).status_code == 204
        assert (await beta.get("/meetings")).json() == {"results": [], "cursor": None}
        assert (await alpha.get(f"/meetings/{created['meetingId']}")).status_code == 200
    async with httpx.AsyncClient(base_url=f"{url}/v1") as anonymous:
        assert (await anonymous.get("/meetings")).status_code == 401


async def test_the_fake_throttles_with_whereby_s_body_and_headers(
    fake: FakeWhereby, url: str
) -> None:
    fake.faults.throttle_next(retry_after=3)
    async with api(url) as client:
        response = await client.get("/meetings")
    assert response.status_code == 429
    assert response.json() == {
        "error": "Rate limit active for throttle key: organization:1",
        "data": {"msLeft": 3000},
    }
    assert response.headers["retry-after"] == "3"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert {"x-ratelimit-limit", "x-ratelimit-reset"} <= set(response.headers)


# --- the sandbox pages, mounted as the development server mounts them ------------------------


async def test_the_sandbox_room_works_under_a_prefix(http: httpx.AsyncClient) -> None:
    fake = FakeWhereby()
    fake.add_api_key(KEY, webhook_secret=SECRET)
    host_app = Starlette(routes=[Mount("/-/sandbox/whereby", app=fake.app)])
    running = start(host_app)
    try:
        base = f"{running.url}/-/sandbox/whereby"
        meeting = await video(http, base).create_meeting(job())
        assert meeting.room_url.startswith(f"{base}/room/")
        assert [r.path for r in fake.requests] == ["/v1/meetings"]

        host_page = await http.get(meeting.host_room_url)
        visitor_page = await http.get(meeting.room_url)
        joined = await http.post(f"{meeting.host_room_url.replace('?', '/join?')}")
        after = await http.get(joined.headers["location"])
        await http.post(meeting.room_url.rstrip("/") + "/join")
        await video(http, base).delete_meeting(MeetingDeletion(meeting.meeting_id, "job-2"))
        gone = await http.get(meeting.room_url)
    finally:
        running.stop()

    assert host_page.status_code == 200
    assert "Sandbox video room: you are in as host" in host_page.text
    assert "Sandbox video room: you are in as visitor" in visitor_page.text
    assert "Nobody is in the room yet." in host_page.text
    for page in (host_page, visitor_page, after):
        assert "<script" not in page.text and "style" not in page.text
        assert '<button type="submit">Join</button>' in page.text
        assert '<button type="submit">Leave</button>' in page.text
    assert joined.status_code == 303 and joined.headers["location"] == meeting.host_room_url
    assert "<li>host: 1</li>" in after.text
    types = [json.loads(d.body)["type"] for d in fake.webhooks.deliveries]
    assert types == ["room.client.joined", "room.client.joined", "room.session.started"]
    assert gone.status_code == 404 and "not found" in gone.text
