"""A clinic admin's "send a test" per provider: a text, an email, a room made and removed; each
through the facade, so each is in the ledger like any disclosure, and a refusal is a message
on the page."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest

from praxis.core.ledger import Status
from tests.conftest import client_for
from tests.functional.flows import events
from tests.provider_fixtures import Providers
from tests.support import Clinic, login, post_form

NUMBER = "+447911123457"


async def test_a_test_text_reaches_the_number_typed_and_is_in_the_ledger(
    app: Any, clinic: Clinic, providers: Providers
) -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        page = await admin.get("/admin/providers")
        assert "Send a test text" in page.text and "Make a test room" in page.text
        sent = await post_form(
            admin, "/admin/providers/sms/test", {"to": "07911 123457"}, page="/admin/providers"
        )
        assert sent.status_code == 303, sent.text
    texts = [m for m in providers.twilio.messages if m.to == NUMBER]
    assert len(texts) == 1 and "test message" in texts[0].body
    recorded = [e for e in await events(providers.rt, clinic) if e.operation == "send_message"]
    assert [e.status for e in recorded][-2:] == [Status.ATTEMPTED, Status.SUCCEEDED]
    assert recorded[-1].categories == "phone" and "test" in recorded[-1].purpose
    assert NUMBER not in str([vars(e) for e in recorded])  # the ledger never holds the number


async def test_a_test_email_and_a_test_room(app: Any, clinic: Clinic, providers: Providers) -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        mailed = await post_form(
            admin,
            "/admin/providers/email/test",
            {"to": "desk@example.org"},
            page="/admin/providers",
        )
        assert mailed.status_code == 303, mailed.text
        room = await post_form(admin, "/admin/providers/video/test", {}, page="/admin/providers")
        assert room.status_code == 303, room.text
    assert [m["To"] for m in providers.mails()][-1] == "desk@example.org"
    assert providers.whereby.meetings == {}  # made, then removed again
    operations = [e.operation for e in await events(providers.rt, clinic)]
    assert "send_email" in operations and "create_meeting" in operations


@pytest.mark.parametrize(
    ("kind", "typed", "message"),
    [
        ("sms", "12", "That phone number is not valid"),
        ("sms", "", "Enter a phone number"),
        ("email", "not-an-address", "Enter an email address"),
    ],
)
async def test_a_wrong_address_is_a_message_on_the_field_and_nothing_is_sent(
    app: Any, clinic: Clinic, providers: Providers, kind: str, typed: str, message: str
) -> None:
    before = len(await events(providers.rt, clinic))
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        refused = await post_form(
            admin, f"/admin/providers/{kind}/test", {"to": typed}, page="/admin/providers"
        )
    assert refused.status_code == 422 and message in unescape(refused.text)
    assert f'id="t-{kind}-error"' in refused.text
    assert len(await events(providers.rt, clinic)) == before
    assert providers.twilio.messages == []


async def test_a_refusal_by_the_provider_is_shown_and_recorded(
    app: Any, clinic: Clinic, providers: Providers
) -> None:
    providers.twilio.faults.fail_next(1, status=400)
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        refused = await post_form(
            admin, "/admin/providers/sms/test", {"to": NUMBER}, page="/admin/providers"
        )
    assert refused.status_code == 200 and "The test did not get through" in refused.text
    recorded = [e for e in await events(providers.rt, clinic) if e.operation == "send_message"]
    assert recorded[-1].status == Status.FAILED


async def test_only_the_clinics_admins_may_send_a_test(
    app: Any, clinic: Clinic, providers: Providers
) -> None:
    async with client_for(app, clinic.host) as pro:
        await login(pro, clinic.professional.username)
        refused = await post_form(
            pro, "/admin/providers/sms/test", {"to": NUMBER}, page="/workspace"
        )
    assert refused.status_code == 403
    assert providers.twilio.messages == []
