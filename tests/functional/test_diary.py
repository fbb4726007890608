"""The Professional's diary (day and week views), editing weekly hours, time off as ranges,
and time off over booked consultations: listed first, cancelled only on an explicit choice."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core.booking.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    WeeklyAvailability,
)
from praxis.core.db import utcnow
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.flows import (
    appointment,
    book_and_pay,
    free_slot,
    set_policy,
    signed_in,
    travel_to,
)
from tests.provider_fixtures import Providers
from tests.support import Clinic, book_by_form, count_rows, login, post_form


@pytest.fixture
async def pro(client: httpx.AsyncClient, clinic: Clinic) -> httpx.AsyncClient:
    await login(client, clinic.professional.username)
    return client


async def book(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime, *, days_ahead: int, skip: int = 0
) -> uuid.UUID:
    """A free consultation booked (the clinic takes no payment here); its id."""
    start = await free_slot(client, clinic, days_ahead=days_ahead, skip=skip)
    booked = await book_by_form(client, clinic, start)
    assert booked.status_code == 303, booked.text
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.scalar(
            select(Appointment.id).where(
                Appointment.starts_at == datetime.fromisoformat(start),
                Appointment.status == AppointmentStatus.BOOKED.value,
            )
        )
    assert found is not None
    return found


def local_day(clinic: Clinic, moment: datetime) -> date:
    return moment.astimezone(clinic.tenant.zone).date()


def today(clinic: Clinic) -> date:
    return local_day(clinic, utcnow())


async def slots_on(client: httpx.AsyncClient, clinic: Clinic, day: date) -> list[str]:
    response = await client.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={
            "consultation_type_id": str(clinic.kinds["Standard"]),
            "from": day.isoformat(),
            "to": day.isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    return [s["starts_at"] for s in response.json()["data"]]


async def rule_of(rt: Runtime, clinic: Clinic, weekday: int) -> WeeklyAvailability:
    """The Professional's first window of that day (the fixture gives one a day)."""
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.scalar(
            select(WeeklyAvailability)
            .where(
                WeeklyAvailability.professional_id == clinic.professional_id,
                WeeklyAvailability.weekday == weekday,
            )
            .order_by(WeeklyAvailability.starts_at)
        )
    assert found is not None
    return found


def section(page: str, day: date) -> str:
    """The part of a diary page about one day."""
    found = re.search(
        rf'<section[^>]*aria-labelledby="day-{day.isoformat()}">(.*?)</section>', page, re.S
    )
    assert found, f"no section for {day}"
    return found.group(1)


# --- the diary ---------------------------------------------------------------------------


async def test_week_and_day_views_list_consultations_apart_from_cancelled_ones(
    app: Any, pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    kept = await book(consumer, clinic, rt, days_ahead=3)
    dropped = await book(consumer, clinic, rt, days_ahead=3, skip=2)
    cancelled = await post_form(
        consumer, f"/appointments/{dropped}/cancel", {}, page=f"/appointments/{dropped}"
    )
    assert cancelled.status_code == 303
    day = local_day(clinic, (await appointment(rt, clinic, kept)).starts_at)

    week = await pro.get(f"/workspace/diary?view=week&date={day.isoformat()}")
    assert week.status_code == 200
    monday = day - timedelta(days=day.weekday())
    assert week.text.count("<section") == 7
    assert (
        f'href="/workspace/diary?view=week&amp;date={(monday - timedelta(days=7)).isoformat()}"'
        in week.text
    )
    assert (
        f'href="/workspace/diary?view=week&amp;date={(monday + timedelta(days=7)).isoformat()}"'
        in week.text
    )
    that_day = section(week.text, day)
    live, _, gone = that_day.partition("<h3>Cancelled")
    assert f'href="/workspace/appointments/{kept}"' in live
    assert f"/workspace/appointments/{dropped}" not in live
    assert f'href="/workspace/appointments/{dropped}"' in gone  # set apart, under its heading
    assert "(cancelled)" in gone and "<del>" in gone
    assert f"{clinic.consumer.username.title()} Example" in live  # the patient's name
    assert "Bookable 08:00 to 20:00" in that_day

    one = await pro.get(f"/workspace/diary?view=day&date={day.isoformat()}")
    assert one.status_code == 200
    assert one.text.count("<section") == 1
    assert f'href="/workspace/appointments/{kept}"' in one.text
    assert f"view=day&amp;date={(day + timedelta(days=1)).isoformat()}" in one.text

    default = await pro.get("/workspace/diary")
    assert default.status_code == 200
    assert "(today)" in default.text


async def test_past_consultations_are_marked(
    app: Any,
    pro: httpx.AsyncClient,
    clinic: Clinic,
    rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    booked = await book(consumer, clinic, rt, days_ahead=2)
    found = await appointment(rt, clinic, booked)
    day = local_day(clinic, found.starts_at)
    page = await pro.get(f"/workspace/diary?view=day&date={day.isoformat()}")
    assert "(past)" not in page.text
    travel_to(monkeypatch, found.ends_at + timedelta(minutes=1))
    page = await pro.get(f"/workspace/diary?view=day&date={day.isoformat()}")
    assert '<li class="past">' in page.text and "(past)" in page.text


async def test_bad_diary_choices_answer_422_on_the_field(pro: httpx.AsyncClient) -> None:
    for query, field, message in (
        ("date=not-a-date", "date", "Enter a date like"),
        ("date=1999-12-31", "date", "between the years 2000 and 2999"),
        ("view=month", "view", ""),
    ):
        page = await pro.get(f"/workspace/diary?{query}")
        assert page.status_code == 422, query
        assert f'id="f-{field}-error"' in page.text, query
        assert message in page.text, query
        assert page.text.count("<section") == 7  # this week is still shown


async def test_a_professional_sees_only_their_own_diary(
    app: Any,
    client: httpx.AsyncClient,
    clinic: Clinic,
    other_clinic: Clinic,
    rt: Runtime,
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    booked = await book(consumer, clinic, rt, days_ahead=2)
    day = local_day(clinic, (await appointment(rt, clinic, booked)).starts_at)
    path = f"/workspace/diary?view=week&date={day.isoformat()}"

    await login(client, clinic.pending_professional.username)  # a colleague in the clinic
    colleague = await client.get(path)
    assert colleague.status_code == 200
    assert str(booked) not in colleague.text
    assert (await client.get(f"/workspace/appointments/{booked}")).status_code == 404

    elsewhere = await signed_in(app, other_clinic, other_clinic.professional.username)
    theirs = await elsewhere.get(path)
    assert theirs.status_code == 200
    assert str(booked) not in theirs.text
    assert (await elsewhere.get(f"/workspace/appointments/{booked}")).status_code == 404

    patient = await (await signed_in(app, clinic, clinic.consumer.username)).get(path)
    assert patient.status_code == 403


# --- weekly hours, edited ----------------------------------------------------------------


async def test_weekly_hours_can_be_edited(
    pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    day = today(clinic) + timedelta(days=9)
    rule = await rule_of(rt, clinic, day.weekday())
    page = await pro.get(f"/workspace/hours/{rule.id}")
    assert page.status_code == 200
    assert 'value="08:00"' in page.text and 'value="20:00"' in page.text
    hours = await pro.get("/workspace/hours")
    assert f'href="/workspace/hours/{rule.id}"' in hours.text

    changed = await post_form(
        pro,
        f"/workspace/hours/{rule.id}",
        {"weekday": str(day.weekday()), "starts_at": "09:00", "ends_at": "12:00"},
    )
    assert changed.status_code == 303
    assert len(await slots_on(pro, clinic, day)) == 6
    assert await count_rows(rt, clinic, WeeklyAvailability) == 14
    after = await rule_of(rt, clinic, day.weekday())
    assert (after.id, after.starts_at.hour, after.ends_at.hour) == (rule.id, 9, 12)


async def test_bad_hour_edits_change_nothing(
    pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    rule = await rule_of(rt, clinic, 0)
    extra = await post_form(
        pro, "/workspace/hours", {"weekday": "0", "starts_at": "20:00", "ends_at": "21:00"}
    )
    assert extra.status_code == 303
    for data, field, message in (
        ({"weekday": "0", "starts_at": "08:00", "ends_at": "20:30"}, "starts_at", "overlap"),
        ({"weekday": "0", "starts_at": "12:00", "ends_at": "11:00"}, "__all__", "must be after"),
        ({"weekday": "0", "starts_at": "08:07", "ends_at": "11:00"}, "starts_at", "5-minute"),
        ({"weekday": "8", "starts_at": "08:00", "ends_at": "11:00"}, "weekday", ""),
        ({"weekday": "0", "starts_at": "", "ends_at": "11:00"}, "starts_at", ""),
    ):
        response = await post_form(pro, f"/workspace/hours/{rule.id}", data)
        assert response.status_code == 422, data
        assert message in response.text, data
        if field != "__all__":
            assert f'id="f-{field}-error"' in response.text, data
    async with rt.database.reading(clinic.tenant.id) as db:
        again = await db.get(WeeklyAvailability, (clinic.tenant.id, rule.id))
    assert again is not None and (again.starts_at.hour, again.ends_at.hour) == (8, 20)
    # Its own window is not an overlap: moving the end within itself is fine.
    moved = await post_form(
        pro,
        f"/workspace/hours/{rule.id}",
        {"weekday": "0", "starts_at": "08:00", "ends_at": "19:00"},
    )
    assert moved.status_code == 303


async def test_hours_of_a_colleague_or_another_clinic_answer_404(
    app: Any, client: httpx.AsyncClient, clinic: Clinic, other_clinic: Clinic, rt: Runtime
) -> None:
    rule = await rule_of(rt, clinic, 0)
    data = {"weekday": "0", "starts_at": "09:00", "ends_at": "10:00"}
    await login(client, clinic.pending_professional.username)
    assert (await client.get(f"/workspace/hours/{rule.id}")).status_code == 404
    colleague = await post_form(
        client, f"/workspace/hours/{rule.id}", data, page="/workspace/hours"
    )
    assert colleague.status_code == 404
    bad_and_not_theirs = await post_form(
        client, f"/workspace/hours/{rule.id}", {**data, "weekday": "x"}, page="/workspace/hours"
    )
    assert bad_and_not_theirs.status_code == 404  # not 422: the rule is not theirs to edit
    elsewhere = await signed_in(app, other_clinic, other_clinic.professional.username)
    assert (await elsewhere.get(f"/workspace/hours/{rule.id}")).status_code == 404
    other = await post_form(elsewhere, f"/workspace/hours/{rule.id}", data, page="/workspace/hours")
    assert other.status_code == 404
    unknown = await elsewhere.get(f"/workspace/hours/{uuid.uuid4()}")
    assert unknown.status_code == 404
    again = await rule_of(rt, clinic, 0)
    assert (again.starts_at.hour, again.ends_at.hour) == (8, 20)


# --- time off as ranges ------------------------------------------------------------------


async def test_time_off_over_several_days_removes_each_days_slots(
    pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    first = today(clinic) + timedelta(days=5)
    last = first + timedelta(days=2)
    saved = await post_form(
        pro,
        "/workspace/days",
        {
            "day_on_date": first.isoformat(),
            "day_until_date": last.isoformat(),
            "day_note": "Conference",
        },
        page="/workspace/hours",
    )
    assert saved.status_code == 303, saved.text
    for n in range(3):
        assert await slots_on(pro, clinic, first + timedelta(days=n)) == []
    assert len(await slots_on(pro, clinic, first - timedelta(days=1))) == 24
    assert len(await slots_on(pro, clinic, last + timedelta(days=1))) == 24
    hours = await pro.get("/workspace/hours")
    assert "not available all day (Conference)" in hours.text
    diary = await pro.get(
        f"/workspace/diary?view=day&date={(first + timedelta(days=1)).isoformat()}"
    )
    assert "time off all day (Conference)" in diary.text
    assert "Not bookable" in diary.text
    # The reason is for staff: patients see neither it nor the change.
    public = await pro.get(f"/professionals/{clinic.professional_id}")
    assert "Conference" not in public.text


async def test_time_off_leaves_the_free_times_page_at_once(
    app: Any, pro: httpx.AsyncClient, clinic: Clinic
) -> None:
    """The page keeps a week a few seconds; the Professional's own change drops it at once."""
    day = today(clinic) + timedelta(days=3)
    week = (
        f"/professionals/{clinic.professional_id}/book?type={clinic.kinds['Standard']}"
        f"&from={day.isoformat()}"
    )
    async with client_for(app, clinic.host) as visitor:
        before = (await visitor.get(week)).text.count('class="slot"')  # shown, and now kept
        saved = await post_form(
            pro, "/workspace/days", {"day_on_date": day.isoformat()}, page="/workspace/hours"
        )
        assert saved.status_code == 303, saved.text
        after = (await visitor.get(week)).text.count('class="slot"')
        assert before - after == 24  # the day's times are gone


async def test_part_of_each_day_off_over_a_range(pro: httpx.AsyncClient, clinic: Clinic) -> None:
    first = today(clinic) + timedelta(days=4)
    saved = await post_form(
        pro,
        "/workspace/days",
        {
            "day_on_date": first.isoformat(),
            "day_until_date": (first + timedelta(days=1)).isoformat(),
            "day_starts_at": "08:00",
            "day_ends_at": "12:00",
        },
        page="/workspace/hours",
    )
    assert saved.status_code == 303
    assert len(await slots_on(pro, clinic, first)) == 16
    assert len(await slots_on(pro, clinic, first + timedelta(days=1))) == 16
    assert len(await slots_on(pro, clinic, first + timedelta(days=2))) == 24


async def test_bad_time_off_ranges_change_nothing(
    pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    first = today(clinic) + timedelta(days=3)
    for data, field, message in (
        (
            {"day_until_date": (first - timedelta(days=1)).isoformat()},
            "day_until_date",
            "The last day must be on or after the first day.",
        ),
        (
            {"day_until_date": (first + timedelta(days=366)).isoformat()},
            "day_until_date",
            "Enter at most 366 days at a time.",
        ),
        ({"day_until_date": "soon"}, "day_until_date", "Enter a date like"),
        ({"day_until_date": "3001-01-01"}, "day_until_date", "between the years 2000 and 2999"),
    ):
        response = await post_form(
            pro,
            "/workspace/days",
            {"day_on_date": first.isoformat(), **data},
            page="/workspace/hours",
        )
        assert response.status_code == 422, data
        assert f'id="f-{field}-error"' in response.text, data
        assert message in response.text, data
    assert await count_rows(rt, clinic, AvailabilityException) == 0


# --- time off over booked consultations ----------------------------------------------------


async def _time_off_over(
    pro: httpx.AsyncClient, clinic: Clinic, day: date, **extra: str
) -> httpx.Response:
    return await post_form(
        pro,
        "/workspace/days",
        {"day_on_date": day.isoformat(), "day_note": "Ill", **extra},
        page="/workspace/hours",
    )


def shown_ids(page: str) -> list[str]:
    return re.findall(r'name="shown" value="([0-9a-f-]{36})"', page)


async def test_time_off_over_bookings_lists_them_and_saves_nothing_yet(
    app: Any, pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    booked = await book(consumer, clinic, rt, days_ahead=3)
    day = local_day(clinic, (await appointment(rt, clinic, booked)).starts_at)
    other_day = await book(consumer, clinic, rt, days_ahead=6)

    warned = await _time_off_over(pro, clinic, day)
    assert warned.status_code == 200
    assert "Nothing is saved yet." in warned.text
    assert f'href="/workspace/appointments/{booked}"' in warned.text
    assert str(other_day) not in warned.text
    assert shown_ids(warned.text) == [str(booked)]
    assert await count_rows(rt, clinic, AvailabilityException) == 0
    assert (await appointment(rt, clinic, booked)).status == AppointmentStatus.BOOKED.value

    # Keeping them saves the time off and touches no consultation.
    token = re.search(r'name="csrf_token" value="([^"]+)"', warned.text)
    assert token
    kept = await pro.post(
        "/workspace/days",
        data={
            "csrf_token": token.group(1),
            "day_on_date": day.isoformat(),
            "day_note": "Ill",
            "shown": str(booked),
            "decision": "keep",
        },
    )
    assert kept.status_code == 303
    assert await count_rows(rt, clinic, AvailabilityException) == 1
    assert (await appointment(rt, clinic, booked)).status == AppointmentStatus.BOOKED.value


async def test_cancelling_needs_the_list_that_was_shown(
    app: Any, pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    booked = await book(consumer, clinic, rt, days_ahead=3)
    day = local_day(clinic, (await appointment(rt, clinic, booked)).starts_at)
    warned = await _time_off_over(pro, clinic, day)
    assert shown_ids(warned.text) == [str(booked)]
    # A second booking the same day arrives before the Professional confirms.
    later = await book(consumer, clinic, rt, days_ahead=3, skip=6)
    assert local_day(clinic, (await appointment(rt, clinic, later)).starts_at) == day
    response = await _time_off_over(pro, clinic, day, shown=str(booked), decision="cancel")
    assert response.status_code == 409
    assert "have changed since you looked" in response.text
    assert sorted(shown_ids(response.text)) == sorted([str(booked), str(later)])
    assert await count_rows(rt, clinic, AvailabilityException) == 0
    for appointment_id in (booked, later):
        assert (await appointment(rt, clinic, appointment_id)).status == "booked"
    # A decision without any list (a forged or stale form) cancels nothing either.
    blind = await _time_off_over(pro, clinic, day, decision="cancel")
    assert blind.status_code == 409
    assert await count_rows(rt, clinic, AvailabilityException) == 0


async def test_the_clinic_cancels_refunds_in_full_and_emails_the_patient(
    app: Any,
    pro: httpx.AsyncClient,
    clinic: Clinic,
    rt: Runtime,
    providers: Providers,
) -> None:
    # The policy would give nothing back this late; the clinic cancelling gives it all.
    await set_policy(rt, clinic, full_refund_hours=72, late_refund_percent=0)
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    paid = await book_and_pay(consumer, clinic, providers, days_ahead=1)
    await providers.run_jobs()
    before = len(providers.mails())
    day = local_day(clinic, (await appointment(rt, clinic, paid)).starts_at)

    warned = await _time_off_over(pro, clinic, day)
    assert shown_ids(warned.text) == [str(paid)]
    assert "refunded in full" in warned.text
    done = await _time_off_over(pro, clinic, day, shown=str(paid), decision="cancel")
    assert done.status_code == 303, done.text
    found = await appointment(rt, clinic, paid)
    assert found.status == AppointmentStatus.CANCELLED.value
    assert found.cancelled_by == clinic.professional.id
    assert await count_rows(rt, clinic, AvailabilityException) == 1

    await providers.run_jobs()
    refunds = providers.stripe.requests_to("POST", "/v1/refunds")
    assert [r.params["amount"] for r in refunds] == ["4000"]
    told = providers.mails()[before:]
    assert any(m["Subject"] == "Your appointment is cancelled" for m in told), [
        m["Subject"] for m in told
    ]
    diary = await pro.get(f"/workspace/diary?view=day&date={day.isoformat()}")
    assert f'href="/workspace/appointments/{paid}"><del>' in diary.text


async def test_extra_hours_and_time_off_elsewhere_never_warn(
    app: Any, pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    booked = await book(consumer, clinic, rt, days_ahead=3, skip=4)  # 10:00
    starts = (await appointment(rt, clinic, booked)).starts_at.astimezone(clinic.tenant.zone)
    day = starts.date()
    assert starts.hour == 10
    extra = await _time_off_over(
        pro, clinic, day, day_starts_at="20:00", day_ends_at="21:00", day_available="on"
    )
    assert extra.status_code == 303
    before = await _time_off_over(pro, clinic, day, day_starts_at="08:00", day_ends_at="10:00")
    assert before.status_code == 303  # up to the minute it starts: no clash
    after = await _time_off_over(pro, clinic, day, day_starts_at="10:30", day_ends_at="12:00")
    assert after.status_code == 303
    assert await count_rows(rt, clinic, AvailabilityException) == 3
    assert (await appointment(rt, clinic, booked)).status == "booked"
