"""The Heron plugin, as the platform will use it, against the fake of Heron."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from praxis.core import testing
from praxis.core.providers.common import (
    AnswerLost,
    DataCategory,
    PermanentFailure,
    TemporaryFailure,
    WebhookRejected,
)
from praxis.core.providers.sms import SmsInbound, SmsMessage, SmsStatusUpdate

import praxis_sms_heron
from fake_heron import FakeHeron

PHONE = "+447700900123"
TEXT = SmsMessage(
    idempotency_key="job-1",
    attempt=1,
    to=PHONE,
    body="Northside Clinic: your appointment on Tue 6 May at 10:00 is confirmed.",
    about=(DataCategory.APPOINTMENT,),
    status_callback_url="https://test-clinic.praxis.example/-/plugins/sms_heron/webhook/status",
    first_attempt_at=datetime(2030, 5, 1, 9, 0, tzinfo=UTC),
)


def heron_provider(settings: dict[str, str], http: httpx.AsyncClient) -> Any:
    return testing.provider(testing.load(praxis_sms_heron), settings, http=http)


def test_it_loads_as_the_platform_loads_it() -> None:
    plugin = testing.load(praxis_sms_heron)
    assert (plugin.manifest.name, plugin.manifest.kind) == ("sms_heron", "sms")


async def test_it_passes_the_kits_checks(
    heron: FakeHeron, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    plugin = testing.load(praxis_sms_heron)
    provider = testing.provider(plugin, settings, http=praxis_http)
    assert await testing.behaviour(plugin, provider, phone=PHONE) == []
    assert len(heron.texts) == 1  # the kit's retry found the first text


async def test_a_retry_says_whether_the_earlier_attempt_had_sent_it(
    heron: FakeHeron, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = heron_provider(settings, praxis_http)
    first = await provider.send_message(TEXT)
    assert first.recovered is None
    again = await provider.send_message(dataclasses.replace(TEXT, attempt=2))
    assert (again.message_id, again.recovered) == (first.message_id, True)
    fresh = dataclasses.replace(TEXT, idempotency_key="job-2", attempt=2)
    assert (await provider.send_message(fresh)).recovered is False  # the first never arrived
    assert len(heron.texts) == 2


async def test_a_number_that_said_stop_is_refused_as_opted_out(
    heron: FakeHeron, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = heron_provider(settings, praxis_http)
    await heron.text_in(PHONE, "STOP")
    with pytest.raises(PermanentFailure) as refused:
        await provider.send_message(TEXT)
    assert refused.value.code == PermanentFailure.OPTED_OUT
    assert PHONE not in refused.value.reason  # reasons never hold personal data


async def test_failures_say_whether_to_try_again(
    heron: FakeHeron, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = heron_provider(settings, praxis_http)
    heron.faults.fail_next(status=502)
    with pytest.raises(TemporaryFailure, match="502"):
        await provider.send_message(TEXT)
    heron.faults.throttle_next(retry_after=30)
    with pytest.raises(TemporaryFailure) as throttled:
        await provider.send_message(TEXT)
    assert throttled.value.retry_after == 30
    async with testing.client(seconds=0.2) as impatient:
        heron.faults.time_out_next(delay=0.5)
        with pytest.raises(AnswerLost):
            await heron_provider(settings, impatient).send_message(TEXT)
    assert heron.texts == {}


async def test_delivery_reports_and_replies_are_read(
    heron: FakeHeron, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = heron_provider(settings, praxis_http)
    sent = await provider.send_message(TEXT)
    report = await heron.report(sent.message_id, "undelivered", "recipient_opted_out")
    update = provider.parse_webhook(testing.webhook_request(report, topic="status"))
    assert isinstance(update, SmsStatusUpdate)
    assert (update.message_id, update.status, update.opted_out) == (
        sent.message_id,
        "undelivered",
        True,
    )
    reply = await heron.text_in(PHONE, "HELP")
    inbound = provider.parse_webhook(testing.webhook_request(reply, topic="inbound"))
    assert inbound == SmsInbound(event_id=inbound.event_id, from_number=PHONE, body="HELP")


async def test_webhooks_not_signed_by_heron_for_this_clinic_are_rejected(
    heron: FakeHeron, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = heron_provider(settings, praxis_http)
    reply = await heron.text_in(PHONE, "START")
    elsewhere = "https://other-clinic.praxis.example/-/plugins/sms_heron/webhook/inbound"
    with pytest.raises(WebhookRejected, match="does not match"):
        provider.parse_webhook(testing.webhook_request(reply, url=elsewhere, topic="inbound"))
    late = datetime.now(UTC) + timedelta(minutes=10)
    with pytest.raises(WebhookRejected, match="too old"):
        provider.parse_webhook(testing.webhook_request(reply, topic="inbound", received_at=late))
    assert testing.rejects_forged_webhooks(provider) == []
