"""Text messages and the consumer's say over them: STOP and its synonyms, START, HELP, the
provider's own opt-out reports, and reminders in the window each clinic chooses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core.consents.models import ConsentRecord
from praxis.core.ledger import LedgerEvent
from praxis.core.notifications.services import SMS_TOPIC
from praxis.core.runtime import Runtime
from praxis.core.worker import scan_appointments
from tests.functional.flows import (
    CONSUMER_PHONE,
    appointment,
    book_and_pay,
    events,
    jobs,
    set_policy,
    signed_in,
)
from tests.provider_fixtures import CLINIC_NUMBER, Providers
from tests.support import Clinic, post_form

TWILIO = "Twilio Ireland Limited"
STRANGER = "+447700900999"


async def text_the_clinic(
    client: httpx.AsyncClient, providers: Providers, body: str, sender: str = CONSUMER_PHONE
) -> None:
    """Someone texts the clinic's number; Twilio's signed webhook reaches the app."""
    await providers.twilio.send_inbound(sender, CLINIC_NUMBER, body)
    await providers.deliver_new(client, "twilio")


async def opted_out(rt: Runtime, clinic: Clinic) -> dict[str, str]:
    """Numbers whose latest appointment-texts consent record is a withdrawal, with its note."""
    async with rt.database.reading(clinic.tenant.id) as db:
        rows = await db.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.purpose == "service", ConsentRecord.channel == "sms")
            .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
        )
        latest = {row.address: row for row in rows if row.address}
    return {phone: row.note for phone, row in latest.items() if not row.given}


def consent_changes(found: list[LedgerEvent]) -> list[tuple[str, Any, str]]:
    return [(e.operation, e.subject_id, e.reason) for e in found if e.kind == "consent"]


def texts_to(providers: Providers, phone: str = CONSUMER_PHONE) -> list[str]:
    return [m.body for m in providers.twilio.messages if m.to == phone]


def twilio_disclosures(found: list[LedgerEvent]) -> list[LedgerEvent]:
    return [e for e in found if e.kind == "disclosure" and e.recipient == TWILIO]


async def test_every_stop_word_in_any_case_opts_out_and_start_words_opt_back_in(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=f"http://{clinic.host}"
    )
    pairs = [
        ("STOP", "START"),
        ("stopall", "yes"),
        (" Unsubscribe ", "Unstop"),
        ("cancel", "START."),
        ("End", "yes!"),
        ("quit", "start"),
    ]
    for stop, start in pairs:
        await text_the_clinic(client, providers, stop)
        assert await opted_out(rt, clinic) == {CONSUMER_PHONE: "reply STOP"}, stop
        await text_the_clinic(client, providers, stop)  # saying it twice changes nothing more
        await text_the_clinic(client, providers, start)
        assert await opted_out(rt, clinic) == {}, start

    # A sentence that happens to start with "yes" is not a request to get texts again.
    await text_the_clinic(client, providers, "stop")
    await text_the_clinic(client, providers, "Yes I will be there on time")
    assert CONSUMER_PHONE in await opted_out(rt, clinic)
    await text_the_clinic(client, providers, "Stop sending these please")
    assert CONSUMER_PHONE in await opted_out(rt, clinic)

    # Each change is in the ledger, about the person whose number it is.
    changes = consent_changes(await events(rt, clinic))
    expected = [
        ("sms_opt_out", clinic.consumer.id, "reply STOP"),
        ("sms_opt_in", clinic.consumer.id, "reply START"),
    ] * len(pairs) + [("sms_opt_out", clinic.consumer.id, "reply STOP")]
    assert changes == expected
    # A number nobody registered with is honoured too, about no one in particular.
    await text_the_clinic(client, providers, "STOP", sender=STRANGER)
    assert (await opted_out(rt, clinic))[STRANGER] == "reply STOP"
    assert consent_changes(await events(rt, clinic))[-1] == ("sms_opt_out", None, "reply STOP")
    assert providers.twilio.messages[-1].direction == "inbound"  # nothing was sent back
    assert await jobs(rt, clinic, SMS_TOPIC) == []
    await client.aclose()


async def test_help_is_answered_through_the_outbox_with_the_clinics_contact(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await text_the_clinic(consumer, providers, "help")
    assert texts_to(providers) == []  # not from the webhook: from the outbox
    (reply_job,) = await jobs(rt, clinic, SMS_TOPIC)
    assert set(reply_job.payload) == {"template", "inbound_id"}  # ids only
    assert await providers.run_jobs() == 1
    (reply,) = texts_to(providers)
    assert clinic.tenant.name in reply and clinic.tenant.controller.dpo_contact in reply
    assert "STOP" in reply and "START" in reply
    assert providers.twilio.messages[-1].from_ == CLINIC_NUMBER
    sent = twilio_disclosures(await events(rt, clinic))
    assert [(e.status, e.categories, e.subject_id) for e in sent] == [
        ("attempted", "phone", clinic.consumer.id),
        ("succeeded", "phone", clinic.consumer.id),
    ]
    assert await opted_out(rt, clinic) == {}


async def test_nothing_is_sent_to_a_number_that_said_stop(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await text_the_clinic(consumer, providers, "Stop")
    appointment_id = await book_and_pay(consumer, clinic, providers, days_ahead=3)
    assert await providers.run_jobs() == 3  # text, email, room: all complete
    assert {j.status for j in await jobs(rt, clinic)} == {"done"}
    assert texts_to(providers) == []
    assert twilio_disclosures(await events(rt, clinic)) == []
    assert len(providers.mails()) == 1  # the other channel is untouched

    starts = (await appointment(rt, clinic, appointment_id)).starts_at
    assert await scan_appointments(rt, [clinic.tenant], now=starts - timedelta(hours=20)) == (1, 0)
    assert await providers.run_jobs() == 2
    assert texts_to(providers) == []
    assert twilio_disclosures(await events(rt, clinic)) == []
    assert len(providers.mails()) == 2

    await text_the_clinic(consumer, providers, "START")
    page = f"/appointments/{appointment_id}"
    await post_form(consumer, f"{page}/cancel", {}, page=page)
    await providers.run_jobs()
    (cancelled,) = texts_to(providers)
    assert "cancelled" in cancelled


async def test_twilio_refusing_an_unsubscribed_number_opts_it_out(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    providers.twilio.unsubscribe(CONSUMER_PHONE)  # said STOP to Twilio directly (error 21610)
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await providers.run_jobs()
    assert {j.status for j in await jobs(rt, clinic)} == {"done"}  # not dead: nothing to fix
    assert texts_to(providers) == []
    assert await opted_out(rt, clinic) == {CONSUMER_PHONE: "provider: unsubscribed"}
    found = await events(rt, clinic)
    assert [e.status for e in twilio_disclosures(found)] == ["attempted", "failed"]
    assert "21610" in twilio_disclosures(found)[-1].reason
    assert consent_changes(found) == [("sms_opt_out", clinic.consumer.id, "provider: unsubscribed")]

    # From then on nothing is even attempted.
    starts = (await appointment(rt, clinic, appointment_id)).starts_at
    await scan_appointments(rt, [clinic.tenant], now=starts - timedelta(hours=20))
    await providers.run_jobs()
    assert len(twilio_disclosures(await events(rt, clinic))) == 2
    twilio_sends = [r for r in providers.twilio.requests if r.method == "POST"]
    assert len(twilio_sends) == 1


async def test_an_undelivered_report_with_error_21610_opts_the_number_out(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    providers.twilio.fail_delivery(CONSUMER_PHONE, 21610)
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await providers.run_jobs()
    assert len(texts_to(providers)) == 1 and await opted_out(rt, clinic) == {}
    await providers.deliver_new(consumer, "twilio")  # queued, sent, undelivered (21610)
    assert await opted_out(rt, clinic) == {CONSUMER_PHONE: "provider: unsubscribed"}
    assert consent_changes(await events(rt, clinic)) == [
        ("sms_opt_out", clinic.consumer.id, "provider: unsubscribed")
    ]


async def test_a_failed_delivery_for_another_reason_does_not_opt_out(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    providers.twilio.fail_delivery(CONSUMER_PHONE, 30003)  # the phone is switched off
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await providers.run_jobs()
    await providers.deliver_new(consumer, "twilio")
    assert await opted_out(rt, clinic) == {}
    assert consent_changes(await events(rt, clinic)) == []


@pytest.mark.parametrize("hours", [0, 24, 48])
async def test_the_reminder_window_is_the_clinics_choice(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, hours: int
) -> None:
    tenant = await set_policy(rt, clinic, reminder_hours_before=hours)
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await providers.run_jobs()
    starts = (await appointment(rt, clinic, appointment_id)).starts_at
    reminders: list[int] = []
    for before in (72, 47, 23, 1):
        now = starts - timedelta(hours=before)
        queued, _ = await scan_appointments(rt, [tenant], now=now)
        reminders.append(queued)
        await providers.run_jobs(now=now)
    expected = {0: [0, 0, 0, 0], 24: [0, 0, 1, 0], 48: [0, 1, 0, 0]}[hours]
    assert reminders == expected
    sent = [t for t in texts_to(providers) if "reminder" in t]
    assert len(sent) == (1 if hours else 0)
    subjects = [m["Subject"] for m in providers.mails()]
    assert sum("Reminder" in s for s in subjects) == (1 if hours else 0)


async def test_a_stop_reply_counts_after_the_clinic_switched_sms_away_from_twilio(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    """A reply to an old text still arrives from the old provider: STOP must not be lost."""
    from tests.provider_fixtures import use_providers

    await use_providers(rt, clinic.tenant.id, {"sms": ""})  # SMS off
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=f"http://{clinic.host}"
    )
    await text_the_clinic(client, providers, "STOP")
    assert await opted_out(rt, clinic) == {CONSUMER_PHONE: "reply STOP"}
    never_used = await client.post("/-/plugins/payments_nowhere/webhook", content=b"{}")
    assert never_used.status_code == 404
