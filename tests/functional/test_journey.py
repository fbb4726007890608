"""The whole journey through the real plugins and SDKs against the fakes: register, book,
questionnaire, pay (hosted checkout, signed webhook), confirmation SMS and email, the Whereby
room, the reminder, joining, and a ledger that shows exactly the disclosures made."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core import ledger
from praxis.core.booking.models import Appointment
from praxis.core.db import utcnow
from praxis.core.ledger import EventKind
from praxis.core.ledger import verify as audit
from praxis.core.payments.models import Payment
from praxis.core.runtime import Runtime
from praxis.core.video.models import VideoMeeting
from praxis.core.worker import scan_appointments
from tests.conftest import client_for
from tests.provider_fixtures import CLINIC_NUMBER, RELAY_COMPANY, Providers
from tests.support import Clinic, login, person_fields, post_form

ANSWERS = {
    "answer.height": "172.5",
    "answer.weight": "68",
    "answer.concerns": "Trouble sleeping since the spring.",
    "answer.takes-medicines": "false",
    "answer.share-with-professional": "true",
}


def travel_to(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Pages see this as now (the room link only opens near the start)."""
    monkeypatch.setattr("praxis.core.web.context.utcnow", lambda: moment)


async def register(client: httpx.AsyncClient, username: str) -> None:
    fields = person_fields(username, phone="07911 123999", email=f"{username}@example.org")
    response = await post_form(client, "/register", fields)
    assert response.status_code == 303, response.text


async def book_first_video_slot(
    client: httpx.AsyncClient, clinic: Clinic, *, days_ahead: int = 0
) -> uuid.UUID:
    """Book the first free 30-minute video slot at least ``days_ahead`` days away."""
    day = (utcnow() + timedelta(days=days_ahead)).date().isoformat()
    slots = await client.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={"consultation_type_id": str(clinic.kinds["Standard"]), "from": day},
    )
    start = slots.json()["data"][0]["starts_at"]
    page = f"/professionals/{clinic.professional_id}/book?type={clinic.kinds['Standard']}"
    form = {
        "professional_id": str(clinic.professional_id),
        "consultation_type_id": str(clinic.kinds["Standard"]),
        "starts_at": start,
    }
    booked = await post_form(client, "/appointments", form, page=page)
    assert booked.status_code == 303, booked.text
    match = re.fullmatch(r"/appointments/([0-9a-f-]{36})/pay", booked.headers["location"])
    assert match, booked.headers["location"]
    return uuid.UUID(match.group(1))


async def appointment(rt: Runtime, clinic: Clinic, appointment_id: uuid.UUID) -> Appointment:
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.get(Appointment, (clinic.tenant.id, appointment_id))
        assert found is not None
        return found


def disclosures(events: list[ledger.LedgerEvent]) -> Counter[tuple[str, str, str, str]]:
    """(recipient, operation, categories, status) of every disclosure and access."""
    return Counter(
        (e.recipient, e.operation, e.categories, e.status)
        for e in events
        if e.kind in (EventKind.DISCLOSURE.value, EventKind.ACCESS.value)
    )


@pytest.mark.promise("P03")
@pytest.mark.promise("P09")
@pytest.mark.promise("P10")
@pytest.mark.promise("P20")
async def test_register_book_pay_remind_join_and_every_disclosure_is_in_the_ledger(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(app, clinic.host)
    await register(client, "sam.patient")
    appointment_id = await book_first_video_slot(client, clinic, days_ahead=3)

    # Held while unpaid; the questionnaire is outstanding until it is answered (P03).
    detail = await client.get(f"/appointments/{appointment_id}")
    assert "Waiting" in detail.text or "held for you" in detail.text
    assert "<strong>outstanding</strong>" in detail.text
    intake = await post_form(client, f"/appointments/{appointment_id}/intake", ANSWERS)
    assert intake.status_code == 303, intake.text
    assert (
        "<strong>outstanding</strong>"
        not in (await client.get(f"/appointments/{appointment_id}")).text
    )

    # Pay on the provider's hosted page: a link away, no card field anywhere here (P09).
    pay = await client.get(f"/appointments/{appointment_id}/pay")
    assert pay.status_code == 200
    checkout = re.search(r'href="(http://127\.0\.0\.1:\d+/checkout/(cs_test_\w+))"', pay.text)
    assert checkout, pay.text
    assert "card" not in re.sub(r"card details", "", pay.text.lower()).replace("cards", "")
    session_id = checkout.group(2)
    created = providers.stripe.requests_to("POST", "/v1/checkout/sessions")
    assert created[-1].headers["stripe-account"] == providers.account_id  # P10: direct charge
    assert (await appointment(rt, clinic, appointment_id)).status == "awaiting_payment"

    providers.stripe.pay(session_id)
    await providers.deliver_new(client, "stripe")
    booked = await appointment(rt, clinic, appointment_id)
    assert booked.status == "booked"  # confirmed only by the verified webhook

    # Confirmations and the room come from the outbox.
    assert await providers.run_jobs() == 3
    texts = [m for m in providers.twilio.messages if m.to == "+447911123999"]
    assert len(texts) == 1 and "paid and confirmed" in texts[0].body
    assert texts[0].from_ == CLINIC_NUMBER
    mails = providers.mails()
    assert [m["To"] for m in mails] == ["sam.patient@example.org"]
    assert "confirmed" in mails[0]["Subject"]
    meetings = list(providers.whereby.meetings.values())
    assert len(meetings) == 1 and meetings[0].is_locked
    await providers.deliver_new(client, "twilio")  # delivery reports

    # The reminder: a scan of database state a day before; a second scan adds nothing.
    day_before = booked.starts_at - timedelta(hours=23)
    assert await scan_appointments(rt, [providers.tenant], now=day_before) == (1, 0)
    assert await scan_appointments(rt, [providers.tenant], now=day_before) == (0, 0)
    assert await providers.run_jobs(now=day_before + timedelta(hours=1)) == 2
    texts = [m for m in providers.twilio.messages if m.to == "+447911123999"]
    assert len(texts) == 2 and "reminder" in texts[1].body
    assert len(providers.mails()) == 2

    # The Professional reads the answers (recorded) and opens the room as host near the start.
    pro = client_for(app, clinic.host)
    await login(pro, clinic.professional.username)
    answers = await pro.get(f"/workspace/appointments/{appointment_id}/intake")
    assert answers.status_code == 200 and "172.5" in answers.text
    travel_to(monkeypatch, booked.starts_at - timedelta(minutes=5))
    host = await pro.get(f"/workspace/appointments/{appointment_id}/host")
    assert host.status_code == 303 and "roomKey=" in host.headers["location"]

    # The consumer joins; Whereby's signed webhooks record who came.
    join = await client.get(f"/appointments/{appointment_id}/join")
    assert join.status_code == 303
    meeting_id = meetings[0].meeting_id
    await providers.whereby.join(meeting_id, role="host")
    await providers.whereby.join(meeting_id, role="visitor")
    await providers.deliver_new(client, "whereby")
    async with rt.database.reading(clinic.tenant.id) as db:
        room = await db.scalar(select(VideoMeeting))
        payment = await db.scalar(select(Payment))
        events = list(reversed(await ledger.browse(db, ledger.LedgerFilter(), limit=500)))
        verdict = await audit.verify(db, clinic.tenant.id, rt.ledger_key.public)
    assert room is not None and room.host_joined_at and room.visitor_joined_at
    assert room.session_started_at is not None
    assert payment is not None and payment.status == "paid" and payment.payment_ref

    # Exactly the disclosures made, recipient by recipient, with their categories.
    pro_name = "Alpha.Pro Example"
    assert disclosures(events) == Counter(
        {
            (pro_name, "booking", "appointment,name", "recorded"): 1,
            (
                "Stripe Payments Europe, Limited",
                "create_checkout",
                "appointment,email,payment",
                "attempted",
            ): 1,
            (
                "Stripe Payments Europe, Limited",
                "create_checkout",
                "appointment,email,payment",
                "succeeded",
            ): 1,
            ("Twilio Ireland Limited", "send_message", "appointment,phone", "attempted"): 2,
            ("Twilio Ireland Limited", "send_message", "appointment,phone", "succeeded"): 2,
            (_smtp(rt), "send_email", "appointment,email", "attempted"): 2,
            (_smtp(rt), "send_email", "appointment,email", "succeeded"): 2,
            (
                "Video Communication Services AS (Whereby)",
                "create_meeting",
                "appointment",
                "attempted",
            ): 1,
            (
                "Video Communication Services AS (Whereby)",
                "create_meeting",
                "appointment",
                "succeeded",
            ): 1,
            (pro_name, "view_intake_answers", "health", "recorded"): 1,
        }
    )
    consumer_id = booked.consumer_id
    assert {e.subject_id for e in events if e.kind != "consent"} == {consumer_id}
    assert verdict.ok and verdict.entries == len(events)

    # The consumer sees the same, in words.
    mine = await client.get("/account/disclosures")
    for recipient in ("Stripe Payments Europe", "Twilio Ireland", "Whereby", pro_name):
        assert recipient in mine.text


def _smtp(rt: Runtime) -> str:
    """The email processor: the relay company the clinic's email settings name."""
    return RELAY_COMPANY


async def test_an_expired_checkout_releases_the_time_and_changes_nothing_else(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = client_for(app, clinic.host)
    await register(client, "late.payer")
    appointment_id = await book_first_video_slot(client, clinic)
    pay = await client.get(f"/appointments/{appointment_id}/pay")
    session_id = re.search(r"/checkout/(cs_test_\w+)", pay.text).group(1)  # type: ignore[union-attr]
    providers.stripe.expire(session_id)
    await providers.deliver_new(client, "stripe")
    released = await appointment(rt, clinic, appointment_id)
    assert released.status == "released"
    assert await providers.run_jobs() == 0  # no confirmation, no room
    assert providers.twilio.messages == [] and providers.whereby.meetings == {}
    # The time is free again for anyone.
    again = await client.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={"consultation_type_id": str(clinic.kinds["Standard"])},
    )
    starts = [datetime.fromisoformat(s["starts_at"]) for s in again.json()["data"]]
    assert released.starts_at in starts
