"""The Lumen plugin, as the platform will use it, against the fake of Lumen."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from praxis.core import testing
from praxis.core.providers.common import (
    AnswerLost,
    PermanentFailure,
    TemporaryFailure,
    WebhookRejected,
)
from praxis.core.providers.video import MeetingDeletion, MeetingRequest

import praxis_video_lumen
from fake_lumen import FakeLumen

ENDS = datetime(2030, 5, 1, 10, 30, tzinfo=UTC)


def lumen_provider(settings: dict[str, str], http: httpx.AsyncClient) -> Any:
    return testing.provider(testing.load(praxis_video_lumen), settings, http=http)


def test_it_loads_as_the_platform_loads_it() -> None:
    plugin = testing.load(praxis_video_lumen)  # raises PluginError naming what to fix
    assert plugin.manifest.name == "video_lumen"
    assert plugin.manifest.fits()  # this platform's plugin API is one it works with


async def test_it_passes_the_kits_checks(
    lumen: FakeLumen, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    plugin = testing.load(praxis_video_lumen)
    provider = testing.provider(plugin, settings, http=praxis_http)
    assert await testing.behaviour(plugin, provider) == []


async def test_a_retry_finds_the_room_an_earlier_attempt_made(
    lumen: FakeLumen, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = lumen_provider(settings, praxis_http)
    first = MeetingRequest(idempotency_key="job-1", attempt=1, ends_at=ENDS)
    made = await provider.create_meeting(first)
    assert made.recovered is None  # a first attempt has nothing to recover
    again = await provider.create_meeting(dataclasses.replace(first, attempt=2))
    assert (again.meeting_id, again.recovered) == (made.meeting_id, True)
    other = MeetingRequest(idempotency_key="job-2", attempt=3, ends_at=ENDS)
    assert (await provider.create_meeting(other)).recovered is False  # none found: made now
    assert len(lumen.rooms) == 2


async def test_times_are_sent_in_utc_and_naive_ones_refused(
    lumen: FakeLumen, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = lumen_provider(settings, praxis_http)
    in_london = ENDS.astimezone(timezone(timedelta(hours=1)))  # British Summer Time
    made = await provider.create_meeting(MeetingRequest("job-3", 1, in_london))
    assert made.ends_at == ENDS and lumen.rooms[made.meeting_id].ends_at.endswith("+00:00")
    with pytest.raises(PermanentFailure, match="no time zone"):
        await provider.create_meeting(MeetingRequest("job-4", 1, ENDS.replace(tzinfo=None)))


async def test_failures_say_whether_to_try_again(
    lumen: FakeLumen, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = lumen_provider(settings, praxis_http)
    request = MeetingRequest(idempotency_key="job-5", attempt=1, ends_at=ENDS)
    lumen.faults.fail_next(status=503)
    with pytest.raises(TemporaryFailure, match="503"):
        await provider.create_meeting(request)
    lumen.faults.throttle_next(retry_after=7)
    with pytest.raises(TemporaryFailure) as throttled:
        await provider.create_meeting(request)
    assert throttled.value.retry_after == 7
    wrong_key = lumen_provider({**settings, "api_key": "not-the-right-key-0"}, praxis_http)
    with pytest.raises(PermanentFailure, match="API key") as refused:
        await wrong_key.create_meeting(request)
    assert "not-the-right-key" not in refused.value.reason  # never a secret in a reason


async def test_an_answer_that_never_came_may_have_arrived(
    lumen: FakeLumen, settings: dict[str, str]
) -> None:
    async with testing.client(seconds=0.2) as impatient:
        provider = lumen_provider(settings, impatient)
        lumen.faults.time_out_next(delay=0.5)
        with pytest.raises(AnswerLost):  # the ledger says *unknown*; the retry settles it
            await provider.create_meeting(MeetingRequest("job-6", 1, ENDS))


async def test_deleting_a_room_twice_succeeds(
    lumen: FakeLumen, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = lumen_provider(settings, praxis_http)
    made = await provider.create_meeting(MeetingRequest("job-7", 1, ENDS))
    for _ in range(2):
        await provider.delete_meeting(MeetingDeletion(made.meeting_id, "job-8"))
    assert made.meeting_id not in lumen.rooms


async def test_attendance_webhooks_name_the_meeting_id(
    lumen: FakeLumen, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = lumen_provider(settings, praxis_http)
    made = await provider.create_meeting(MeetingRequest("job-9", 1, ENDS))
    await lumen.join(made.meeting_id, "host")
    joined, started = await lumen.join(made.meeting_id, "guest")
    event = provider.parse_webhook(testing.webhook_request(joined))
    assert (event.type, event.role, event.meeting_id) == ("joined", "visitor", made.meeting_id)
    assert provider.parse_webhook(testing.webhook_request(started)).type == "session_started"


async def test_webhooks_not_signed_by_lumen_are_rejected(
    lumen: FakeLumen, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = lumen_provider(settings, praxis_http)
    made = await provider.create_meeting(MeetingRequest("job-10", 1, ENDS))
    [delivery] = await lumen.join(made.meeting_id)
    tampered = json.loads(delivery.body) | {"room_id": "room_someone_else"}
    forged = dataclasses.replace(delivery, body=json.dumps(tampered).encode())
    with pytest.raises(WebhookRejected, match="does not match"):
        provider.parse_webhook(testing.webhook_request(forged))
    late = datetime.now(UTC) + timedelta(minutes=10)
    with pytest.raises(WebhookRejected, match="too old"):
        provider.parse_webhook(testing.webhook_request(delivery, received_at=late))
    assert testing.rejects_forged_webhooks(provider) == []
