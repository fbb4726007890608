"""The patient's booking journey (issue 11): the review step, moving and cancelling within the
clinic's policy, calendar files, the pending payment, free-time navigation, and the clinic
admin's Booking policy page. Every rule on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import select

from praxis.core.booking.models import Appointment, SlotHold
from praxis.core.db import utcnow
from praxis.core.ledger import EventKind
from praxis.core.notifications.services import EMAIL_TOPIC
from praxis.core.payments.models import Payment
from praxis.core.runtime import Runtime
from praxis.core.video.models import VideoMeeting
from praxis.core.video.services import MOVE_TOPIC
from praxis.tenants.models import Tenant
from tests.conftest import client_for
from tests.functional.flows import (
    appointment,
    book,
    book_and_pay,
    events,
    free_slot,
    jobs,
    open_checkout,
    set_policy,
    signed_in,
    travel_to,
)
from tests.provider_fixtures import Providers
from tests.support import Clinic, count_rows, login, make_consumer, post_form


def review_url(clinic: Clinic, start: str, kind: str = "Standard") -> str:
    return (
        f"/professionals/{clinic.professional_id}/book/review"
        f"?type={clinic.kinds[kind]}&at={quote(start)}"
    )


async def book_free(
    client: httpx.AsyncClient,
    rt: Runtime,
    clinic: Clinic,
    kind: str = "Standard",
    *,
    days_ahead: int,
) -> uuid.UUID:
    """Confirm a booking of a free (unpaid) consultation; its id."""
    start = await free_slot(client, clinic, kind, days_ahead=days_ahead)
    form = {
        "professional_id": str(clinic.professional_id),
        "consultation_type_id": str(clinic.kinds[kind]),
        "starts_at": start,
    }
    booked = await post_form(client, "/appointments", form, page=review_url(clinic, start, kind))
    assert booked.status_code == 303, booked.text
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.scalar(
            select(Appointment.id).where(Appointment.starts_at == datetime.fromisoformat(start))
        )
    assert found is not None
    return found


async def holds_of(rt: Runtime, clinic: Clinic, appointment_id: uuid.UUID) -> list[datetime]:
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.scalars(
            select(SlotHold.starts_at)
            .where(SlotHold.appointment_id == appointment_id)
            .order_by(SlotHold.starts_at)
        )
        return list(found)


# --- the review step ----------------------------------------------------------------------


async def test_review_step_says_everything_and_holds_nothing_until_confirmed(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.consumer.username)
    start = await free_slot(client, clinic, "Long", days_ahead=3)
    page = await client.get(review_url(clinic, start, "Long"))
    assert page.status_code == 200, page.text
    text = page.text
    assert "Check and confirm your booking" in text
    assert "Nothing is booked yet" in text
    local = datetime.fromisoformat(start).astimezone(clinic.tenant.zone)
    assert f"{local:%H:%M}" in text and "Europe/London time" in text  # the clinic's zone
    assert "In person at" in text and clinic.tenant.controller.address in text
    assert "£40.00" in text
    assert "You can cancel or move this appointment online until" in text
    assert "you get the full price back" in text and "nothing is refunded" in text
    assert 'href="/privacy"' in text
    assert ">Confirm booking</button>" in text
    assert await count_rows(rt, clinic, Appointment) == 0
    assert await count_rows(rt, clinic, SlotHold) == 0
    confirmed = await post_form(
        client,
        "/appointments",
        {
            "professional_id": str(clinic.professional_id),
            "consultation_type_id": str(clinic.kinds["Long"]),
            "starts_at": start,
        },
        page=review_url(clinic, start, "Long"),
    )
    assert confirmed.status_code == 303
    assert await count_rows(rt, clinic, Appointment) == 1


async def test_review_of_a_video_consultation_says_how_to_join(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    await login(client, clinic.consumer.username)
    start = await free_slot(client, clinic, days_ahead=2)
    page = await client.get(review_url(clinic, start))
    assert "By video: the link to join appears on your appointment page" in page.text


@pytest.mark.parametrize("at", ["", "tomorrow", "2026-01-01T09:00:00", "1999-01-01T09:00:00Z"])
async def test_review_of_a_time_that_is_no_time_goes_back_to_the_free_times(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime, at: str
) -> None:
    await login(client, clinic.consumer.username)
    kind = clinic.kinds["Standard"]
    url = f"/professionals/{clinic.professional_id}/book/review?type={kind}&at={quote(at)}"
    response = await client.get(url)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/professionals/{clinic.professional_id}/book")
    assert await count_rows(rt, clinic, Appointment) == 0


async def test_review_of_a_taken_time_says_so(app: Any, clinic: Clinic, rt: Runtime) -> None:
    first = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book_free(first, rt, clinic, days_ahead=2)
    taken = (await appointment(rt, clinic, appointment_id)).starts_at.isoformat()
    other = await make_consumer(rt, clinic.tenant, "someone.else")
    second = await signed_in(app, clinic, other.username)
    response = await second.get(review_url(clinic, taken))
    assert response.status_code == 303
    shown = await second.get(response.headers["location"])
    assert "That time is not available" in shown.text
    assert await count_rows(rt, clinic, Appointment) == 1


async def test_anonymous_review_goes_to_sign_in(client: httpx.AsyncClient, clinic: Clinic) -> None:
    start = await free_slot(client, clinic, days_ahead=2)
    response = await client.get(review_url(clinic, start))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


# --- cancelling asks first and says what comes back -----------------------------------------


async def test_cancel_page_says_what_is_refunded_and_cancels_only_when_confirmed(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    providers: Providers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await set_policy(
        rt, clinic, cancellation_window_hours=0, full_refund_hours=48, late_refund_percent=50
    )
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    paid = await book_and_pay(consumer, clinic, providers, days_ahead=4)
    starts = (await appointment(rt, clinic, paid)).starts_at

    travel_to(monkeypatch, starts - timedelta(hours=49))
    early = await consumer.get(f"/appointments/{paid}/cancel")
    assert early.status_code == 200
    assert "Cancel your appointment?" in early.text
    assert "You get the whole £40.00 back" in early.text
    assert "Cancel later and you get 50% of the price back." in early.text

    travel_to(monkeypatch, starts - timedelta(hours=47))
    late = await consumer.get(f"/appointments/{paid}/cancel")
    assert "You get £20.00 of the £40.00 you paid back" in late.text
    assert (await appointment(rt, clinic, paid)).status == "booked"  # looking cancels nothing

    done = await post_form(
        consumer, f"/appointments/{paid}/cancel", {}, page=f"/appointments/{paid}/cancel"
    )
    assert done.status_code == 303
    assert (await appointment(rt, clinic, paid)).status == "cancelled"
    again = await consumer.get(f"/appointments/{paid}/cancel")
    assert again.status_code == 303  # nothing left to cancel: back to the appointment


async def test_cancel_page_for_nothing_paid_and_after_the_window(
    app: Any, rt: Runtime, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    free = await book_free(consumer, rt, clinic, days_ahead=3)
    page = await consumer.get(f"/appointments/{free}/cancel")
    assert "Nothing was paid for it online" in page.text
    starts = (await appointment(rt, clinic, free)).starts_at
    travel_to(monkeypatch, starts - timedelta(hours=23))
    late = await consumer.get(f"/appointments/{free}/cancel")
    assert late.status_code == 303
    shown = await consumer.get(late.headers["location"])
    assert "cannot be cancelled online" in shown.text
    assert "It is too late to move or cancel online" in shown.text


# --- moving an appointment ----------------------------------------------------------------


async def test_moving_a_paid_appointment_keeps_it_paid_and_moves_holds_room_reminder_ledger(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    paid = await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await providers.run_jobs()  # the confirmation, the room
    before = await appointment(rt, clinic, paid)
    async with rt.database.writing(clinic.tenant.id) as db:
        row = await db.get(Appointment, (clinic.tenant.id, paid))
        assert row is not None
        row.reminder_queued_at = utcnow()  # as if reminded of the old time already
        await db.commit()
    async with rt.database.reading(clinic.tenant.id) as db:
        old_room = await db.scalar(select(VideoMeeting).where(VideoMeeting.appointment_id == paid))
    assert old_room is not None

    page = await consumer.get(f"/appointments/{paid}/reschedule")
    assert page.status_code == 200
    assert "what you paid stays paid" in page.text
    later = await free_slot(consumer, clinic, days_ahead=6)
    moved = await post_form(
        consumer,
        f"/appointments/{paid}/reschedule",
        {"starts_at": later},
        page=f"/appointments/{paid}/reschedule",
    )
    assert moved.status_code == 303, moved.text
    assert moved.headers["location"] == f"/appointments/{paid}"

    after = await appointment(rt, clinic, paid)
    assert after.id == before.id and after.status == "booked"
    assert after.starts_at == datetime.fromisoformat(later)
    assert after.ends_at - after.starts_at == before.ends_at - before.starts_at
    assert after.reminder_queued_at is None  # the reminder is due again, for the new time
    holds = await holds_of(rt, clinic, paid)
    assert holds[0] == after.starts_at and len(holds) == 6
    async with rt.database.reading(clinic.tenant.id) as db:
        (payment,) = (await db.scalars(select(Payment).where(Payment.appointment_id == paid))).all()
    assert payment.status == "paid"
    page = await consumer.get(f"/appointments/{paid}")
    assert ">Pay " not in page.text and "confirmed</strong>, paid" in page.text

    # The Professional is told the new time (ledger); the room is replaced to last to the
    # new end; an email with the new time and its .ics goes out.
    moves = [e for e in await events(rt, clinic) if e.operation == "reschedule"]
    assert len(moves) == 1 and moves[0].kind == EventKind.DISCLOSURE.value
    assert [j.topic for j in await jobs(rt, clinic, MOVE_TOPIC)] == [MOVE_TOPIC]
    await providers.run_jobs()
    async with rt.database.reading(clinic.tenant.id) as db:
        room = await db.scalar(select(VideoMeeting).where(VideoMeeting.appointment_id == paid))
    assert room is not None and room.meeting_ref != old_room.meeting_ref
    assert room.ends_at >= after.ends_at
    (mail,) = [m for m in providers.mails() if "moved" in m["Subject"]]
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert "text/calendar" in parts
    event = Calendar.from_ical(parts["text/calendar"].get_payload(decode=True)).walk("VEVENT")[0]
    assert event.decoded("dtstart") == after.starts_at


async def test_moving_follows_the_policy_and_a_refused_move_changes_nothing(
    app: Any, rt: Runtime, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    mine = await book_free(consumer, rt, clinic, days_ahead=3)
    theirs_client = await signed_in(
        app, clinic, (await make_consumer(rt, clinic.tenant, "other.patient")).username
    )
    theirs = await book_free(theirs_client, rt, clinic, days_ahead=5)
    before = await appointment(rt, clinic, mine)
    held = await holds_of(rt, clinic, mine)
    page = f"/appointments/{mine}/reschedule"

    # Bad input: 422 with a message, nothing saved.
    for bad in ("", "soon", "2026-13-40T09:00:00Z", "2026-06-01T09:00:00"):
        refused = await post_form(consumer, page, {"starts_at": bad}, page=page)
        assert refused.status_code == 422, (bad, refused.status_code)
        assert 'class="error" id="f-starts_at"' in refused.text
    # A time someone else holds, and a time outside the diary: refused, nothing changed.
    taken = (await appointment(rt, clinic, theirs)).starts_at.isoformat()
    night = (before.starts_at.replace(hour=2, minute=0) + timedelta(days=1)).isoformat()
    for wanted in (taken, night):
        refused = await post_form(consumer, page, {"starts_at": wanted}, page=page)
        assert refused.status_code == 303 and refused.headers["location"] == page
        shown = await consumer.get(page)
        assert "That time is not available" in shown.text
    # Sooner than the minimum notice: not a free time either.
    soon = (utcnow() + timedelta(minutes=30)).replace(second=0, microsecond=0).isoformat()
    refused = await post_form(consumer, page, {"starts_at": soon}, page=page)
    assert refused.status_code == 303
    assert await appointment(rt, clinic, mine) == before or (
        (await appointment(rt, clinic, mine)).starts_at == before.starts_at
    )
    assert await holds_of(rt, clinic, mine) == held

    # Inside the cancellation window: neither the page nor the move.
    travel_to(monkeypatch, before.starts_at - timedelta(hours=23))
    assert (await consumer.get(page)).status_code == 303
    later = await free_slot(consumer, clinic, days_ahead=6)
    refused = await post_form(consumer, page, {"starts_at": later}, page=f"/appointments/{mine}")
    assert refused.status_code == 403
    assert "moved online up to 24 hours" in refused.text
    assert (await appointment(rt, clinic, mine)).starts_at == before.starts_at
    assert await holds_of(rt, clinic, mine) == held


# --- another consumer's, another clinic's: 404 --------------------------------------------


async def test_someone_elses_and_another_clinics_appointment_answer_404(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    owner = await signed_in(app, other_clinic, other_clinic.consumer.username)
    theirs = await book_free(owner, rt, other_clinic, days_ahead=3)
    neighbour = await signed_in(
        app, clinic, (await make_consumer(rt, clinic.tenant, "neighbour")).username
    )
    mine = await book_free(neighbour, rt, clinic, days_ahead=3)
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    for appointment_id in (theirs, mine):
        for tail in ("cancel", "reschedule", "calendar.ics", "status"):
            response = await consumer.get(f"/appointments/{appointment_id}/{tail}")
            assert response.status_code == 404, (tail, response.status_code)
        move = await post_form(
            consumer,
            f"/appointments/{appointment_id}/reschedule",
            {"starts_at": await free_slot(consumer, clinic, days_ahead=6)},
            page="/appointments",
        )
        assert move.status_code == 404
    assert (await appointment(rt, clinic, mine)).status == "booked"


# --- calendar files -----------------------------------------------------------------------


async def test_add_to_calendar_downloads_the_consumers_own_appointment(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    mine = await book_free(consumer, rt, clinic, "Long", days_ahead=3)
    page = await consumer.get(f"/appointments/{mine}")
    assert (
        f'href="/appointments/{mine}/calendar.ics"' in page.text and "Add to calendar" in page.text
    )
    response = await consumer.get(f"/appointments/{mine}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert "attachment" in response.headers["content-disposition"]
    assert "no-store" in response.headers["cache-control"]
    found = await appointment(rt, clinic, mine)
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("dtstart") == found.starts_at
    assert event.decoded("dtend") == found.ends_at
    assert str(event["uid"]).startswith(str(mine))
    assert "Long with" in str(event["summary"])
    assert clinic.tenant.controller.address in str(event["location"])
    assert f"/appointments/{mine}" in str(event["url"])


async def test_booking_emails_say_who_when_how_and_carry_the_ics(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    await set_policy(rt, clinic, in_person_address="2 Harbour Lane, Bristol BS1 4QA")
    await set_policy(rt, clinic)  # the providers fixture's tenant stays in step
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    paid = await book_and_pay(consumer, clinic, providers, "Long", days_ahead=3)
    await providers.run_jobs()
    (mail,) = [m for m in providers.mails() if "confirmed" in m["Subject"]]
    plain = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    body = plain.get_payload(decode=True).decode()
    found = await appointment(rt, clinic, paid)
    local = found.starts_at.astimezone(clinic.tenant.zone)
    assert "With: " in body and "How: In person at 2 Harbour Lane, Bristol BS1 4QA." in body
    assert f"{local:%H:%M}" in body and "(Europe/London time)" in body
    (ics,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert ics.get_filename() == "appointment.ics"
    (event,) = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert event.decoded("dtstart") == found.starts_at
    assert "2 Harbour Lane" in str(event["location"])
    assert len(await jobs(rt, clinic, EMAIL_TOPIC)) >= 1


# --- the payment arrives while the consumer waits -----------------------------------------


async def test_after_paying_the_page_shows_pending_then_paid_and_never_pay_again(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    held = await book(consumer, clinic, days_ahead=3)
    first = await consumer.get(f"/appointments/{held}")
    assert f'href="/appointments/{held}/pay"' in first.text  # not paid yet: Pay is offered
    session_id = await open_checkout(consumer, held)
    providers.stripe.pay(session_id)
    back = await consumer.get(f"/appointments/{held}?paid=1")  # the provider sends them back
    assert "Payment <strong>pending</strong>" in back.text
    assert '<script src="/static/payment-status.js" defer></script>' in back.text
    assert f'href="/appointments/{held}?paid=1">Reload</a>' in back.text
    assert f'href="/appointments/{held}/pay"' not in back.text
    status = await consumer.get(f"/appointments/{held}/status")
    assert status.json() == {"status": "awaiting_payment", "settled": False}
    assert "no-store" in status.headers["cache-control"]

    await providers.deliver_new(consumer, "stripe")  # the webhook arrives
    assert (await consumer.get(f"/appointments/{held}/status")).json() == {
        "status": "booked",
        "settled": True,
    }
    page = await consumer.get(f"/appointments/{held}?paid=1")
    assert "confirmed</strong>, paid" in page.text
    assert f'href="/appointments/{held}/pay"' not in page.text and "pending" not in page.text
    script = await consumer.get("/static/payment-status.js")
    assert script.status_code == 200 and "settled" in script.text


# --- free times: the day picker and "next available" --------------------------------------


async def test_day_picker_and_next_available_jump_to_the_first_free_day(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await set_policy(rt, clinic, minimum_notice_hours=24 * 9)  # nothing this week nor next
    url = f"/professionals/{clinic.professional_id}/book?type={clinic.kinds['Standard']}"
    page = await client.get(url)
    assert page.status_code == 200
    assert "No free times in these days." in page.text
    assert '<label for="f-from">Show free times from</label>' in page.text
    jump = re.search(r'Next available: <a href="\?type=[0-9a-f-]+&amp;from=([0-9-]+)">', page.text)
    assert jump, page.text
    first_day = datetime.fromisoformat(jump.group(1)).date()
    today = utcnow().astimezone(clinic.tenant.zone).date()
    assert (first_day - today).days in (9, 10)
    there = await client.get(f"{url}&from={first_day.isoformat()}")
    assert there.text.count('class="slot"') > 0
    picked = await client.get(f"{url}&from=not-a-date")  # a bad day: this week, not an error
    assert picked.status_code == 200


async def test_professionals_list_shows_field_and_next_free_time(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    page = await client.get("/professionals")
    assert "General practice" in page.text
    assert page.text.count("Next free time: ") == 1  # the pending Professional is not listed


# --- the clinic admin's booking policy -----------------------------------------------------


async def policy_row(rt: Runtime, clinic: Clinic) -> dict[str, Any]:
    async with rt.database.reading() as db:
        row = await db.get(Tenant, clinic.tenant.id)
        assert row is not None
        return dict(row.booking)


async def test_admin_saves_the_booking_policy_and_patients_see_it(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    page = await admin.get("/admin/booking-policy")
    assert page.status_code == 200 and 'value="24"' in page.text
    wanted = {
        "cancellation_window_hours": "48",
        "minimum_notice_hours": "4",
        "horizon_days": "30",
        "buffer_minutes": "10",
        "payment_hold_minutes": "45",
        "full_refund_hours": "72",
        "late_refund_percent": "25",
        "reminder_hours_before": "12",
        "in_person_address": "2 Harbour Lane, Bristol",
    }
    saved = await post_form(admin, "/admin/booking-policy", wanted)
    assert saved.status_code == 303
    shown = await admin.get("/admin/booking-policy")
    assert "Saved: " in shown.text and 'value="48"' in shown.text
    stored = await policy_row(rt, clinic)
    assert stored["buffer_minutes"] == 10 and stored["late_refund_percent"] == 25
    assert stored["in_person_address"] == "2 Harbour Lane, Bristol"
    changes = [e for e in await events(rt, clinic) if e.operation == "booking_policy"]
    assert len(changes) == 1 and "buffer_minutes" in (changes[0].reason or "")
    same = await post_form(admin, "/admin/booking-policy", wanted)
    assert "Nothing changed." in (await admin.get(same.headers["location"])).text

    consumer = await signed_in(app, clinic, clinic.consumer.username)
    start = await free_slot(consumer, clinic, "Long", days_ahead=3)
    review = await consumer.get(review_url(clinic, start, "Long"))
    assert "2 Harbour Lane, Bristol" in review.text
    assert "Cancel later and you get 25% of the price back." in review.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cancellation_window_hours", "-1", "at least 0"),
        ("cancellation_window_hours", "many", "whole number"),
        ("minimum_notice_hours", "721", "at most 720"),
        ("horizon_days", "0", "at least 1"),
        ("buffer_minutes", "7", "steps of 5 minutes"),
        ("buffer_minutes", "125", "at most 120"),
        ("payment_hold_minutes", "10", "at least 30"),
        ("full_refund_hours", "", "whole number"),
        ("late_refund_percent", "101", "at most 100"),
        ("reminder_hours_before", "169", "at most 168"),
        ("in_person_address", "x" * 301, "at most 300"),
    ],
)
async def test_admin_booking_policy_refuses_each_bad_field_and_saves_nothing(
    app: Any, rt: Runtime, clinic: Clinic, field: str, value: str, message: str
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    before = await policy_row(rt, clinic)
    form = {
        "cancellation_window_hours": "24",
        "minimum_notice_hours": "2",
        "horizon_days": "60",
        "buffer_minutes": "0",
        "payment_hold_minutes": "30",
        "full_refund_hours": "24",
        "late_refund_percent": "0",
        "reminder_hours_before": "24",
        "in_person_address": "",
        field: value,
    }
    refused = await post_form(admin, "/admin/booking-policy", form)
    assert refused.status_code == 422
    error = re.search(rf'<p class="error" id="f-{field}-error">([^<]*)</p>', refused.text)
    assert error, refused.text
    assert message in error.group(1).lower()
    assert await policy_row(rt, clinic) == before


async def test_only_clinic_admins_edit_the_booking_policy(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    assert (await consumer.get("/admin/booking-policy")).status_code in (403, 404)
    pro = client_for(app, clinic.host)
    await login(pro, clinic.professional.username)
    assert (await pro.get("/admin/booking-policy")).status_code in (403, 404)


async def test_a_buffer_keeps_a_gap_between_consultations(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    await set_policy(rt, clinic, buffer_minutes=10)
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    slots = await consumer.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={
            "consultation_type_id": str(clinic.kinds["Standard"]),
            "from": (utcnow() + timedelta(days=3)).date().isoformat(),
        },
    )
    starts = [datetime.fromisoformat(s["starts_at"]) for s in slots.json()["data"]][:3]
    assert starts[1] - starts[0] == timedelta(minutes=40)  # 30 minutes and a 10-minute gap
    booked = await book_free(consumer, rt, clinic, "Long", days_ahead=3)
    found = await appointment(rt, clinic, booked)
    assert len(await holds_of(rt, clinic, booked)) == 14  # 60 minutes and the 10 after
    day = found.starts_at.astimezone(clinic.tenant.zone).date().isoformat()
    after = await consumer.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={"consultation_type_id": str(clinic.kinds["Standard"]), "from": day, "to": day},
    )
    for slot in after.json()["data"]:
        begins = datetime.fromisoformat(slot["starts_at"])
        ends = begins + timedelta(minutes=30)
        gap_after = begins - found.ends_at
        gap_before = found.starts_at - ends
        assert gap_after >= timedelta(minutes=10) or gap_before >= timedelta(minutes=10), slot


async def test_a_time_booked_leaves_the_free_times_page_at_once(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    """The page keeps a week a few seconds; a booking made here drops it at once."""
    visitor = client_for(app, clinic.host)
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    start = datetime.fromisoformat(await free_slot(consumer, clinic, days_ahead=2))
    local = start.astimezone(clinic.tenant.zone)
    week = (
        f"/professionals/{clinic.professional_id}/book?type={clinic.kinds['Standard']}"
        f"&from={local.date().isoformat()}"
    )
    mark = f'<span class="slot">{local:%H:%M}</span>'
    assert mark in (await visitor.get(week)).text  # shown, and now kept
    booked = await book_free(consumer, rt, clinic, days_ahead=2)
    assert (await appointment(rt, clinic, booked)).starts_at == start
    first_day = (await visitor.get(week)).text.split("</section>", 1)[0]
    assert mark not in first_day


async def test_the_reminder_email_carries_the_ics_too(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    from praxis.core.notifications.services import queue_reminders

    consumer = await signed_in(app, clinic, clinic.consumer.username)
    paid = await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await providers.run_jobs()
    found = await appointment(rt, clinic, paid)
    async with rt.database.writing(clinic.tenant.id) as db:
        assert await queue_reminders(db, clinic.tenant, now=found.starts_at - timedelta(hours=23))
        await db.commit()
    await providers.run_jobs()
    (mail,) = [m for m in providers.mails() if m["Subject"].startswith("Reminder")]
    (ics,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    (event,) = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert event.decoded("dtstart") == found.starts_at


async def test_another_clinics_professional_has_no_review_step_here(
    app: Any, clinic: Clinic, other_clinic: Clinic
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    start = await free_slot(consumer, clinic, days_ahead=2)
    theirs = (
        f"/professionals/{other_clinic.professional_id}/book/review"
        f"?type={other_clinic.kinds['Standard']}&at={quote(start)}"
    )
    assert (await consumer.get(theirs)).status_code == 404
    mixed = (
        f"/professionals/{clinic.professional_id}/book/review"
        f"?type={other_clinic.kinds['Standard']}&at={quote(start)}"
    )
    assert (await consumer.get(mixed)).status_code == 404
    free_times = (
        f"/professionals/{other_clinic.professional_id}/book?type={other_clinic.kinds['Standard']}"
    )
    assert (await consumer.get(free_times)).status_code == 404


async def test_another_clinics_admin_cannot_change_this_clinics_policy(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    before = await policy_row(rt, clinic)
    theirs = await signed_in(app, other_clinic, other_clinic.admin.username)
    saved = await post_form(
        theirs,
        "/admin/booking-policy",
        {
            "horizon_days": "5",
            **{
                "cancellation_window_hours": "1",
                "minimum_notice_hours": "1",
                "buffer_minutes": "5",
                "payment_hold_minutes": "30",
                "full_refund_hours": "1",
                "late_refund_percent": "1",
                "reminder_hours_before": "1",
                "in_person_address": "",
            },
        },
    )
    assert saved.status_code == 303
    assert await policy_row(rt, clinic) == before  # their own clinic's changed, not this one
    assert (await policy_row(rt, other_clinic))["horizon_days"] == 5
