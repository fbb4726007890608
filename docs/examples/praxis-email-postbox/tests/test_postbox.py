"""The Postbox plugin, as the platform will use it, against the fake of Postbox."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from praxis.core import testing
from praxis.core.providers.common import (
    AnswerLost,
    DataCategory,
    PermanentFailure,
    TemporaryFailure,
)
from praxis.core.providers.email import EmailMessage

import praxis_email_postbox
from fake_postbox import FakePostbox

ADDRESS = "alex@example.org"
EMAIL = EmailMessage(
    idempotency_key="job-1",
    to=ADDRESS,
    subject="Your appointment is confirmed",
    text="Your appointment on Tuesday 6 May at 10:00 is confirmed.",
    sender_name="Northside Clinic",
    about=(DataCategory.APPOINTMENT,),
    reply_to="privacy@northside-clinic.example",
    tenant_slug="northside",
)


def postbox_provider(settings: dict[str, str], http: httpx.AsyncClient) -> Any:
    return testing.provider(testing.load(praxis_email_postbox), settings, http=http)


def test_it_loads_as_the_platform_loads_it() -> None:
    plugin = testing.load(praxis_email_postbox)
    assert (plugin.manifest.name, plugin.manifest.kind) == ("email_postbox", "email")


async def test_it_passes_the_kits_checks(
    postbox: FakePostbox, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    plugin = testing.load(praxis_email_postbox)
    provider = testing.provider(plugin, settings, http=praxis_http)
    assert await testing.behaviour(plugin, provider) == []


async def test_a_retry_sends_nothing_twice_and_says_so(
    postbox: FakePostbox, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = postbox_provider(settings, praxis_http)
    first = await provider.send_email(EMAIL)
    again = await provider.send_email(dataclasses.replace(EMAIL, attempt=2))
    assert (first.recovered, again.recovered) == (None, True)
    assert again.message_id == first.message_id and len(postbox.emails) == 1
    [sent] = postbox.emails.values()
    assert sent["from"] == {"name": "Northside Clinic", "address": settings["from_address"]}
    assert sent["headers"]["Message-ID"].endswith("@northside-clinic.example>")


async def test_failures_say_whether_to_try_again_and_never_name_the_address(
    postbox: FakePostbox, settings: dict[str, str], praxis_http: httpx.AsyncClient
) -> None:
    provider = postbox_provider(settings, praxis_http)
    postbox.faults.fail_next(status=500)
    with pytest.raises(TemporaryFailure, match="500"):
        await provider.send_email(EMAIL)
    postbox.inactive.add(ADDRESS)
    with pytest.raises(PermanentFailure) as refused:
        await provider.send_email(EMAIL)
    assert refused.value.code == "inactive_recipient" and ADDRESS not in str(refused.value)
    async with testing.client(seconds=0.2) as impatient:
        postbox.faults.time_out_next(delay=0.5)
        with pytest.raises(AnswerLost):
            await postbox_provider(settings, impatient).send_email(EMAIL)
