"""Issue 11: the front desk. Patients' records, search, and booking for them by phone."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from praxis.core.accounts.models import Role, User
from praxis.core.booking.models import Appointment
from praxis.core.booking.services import OVERRIDDEN
from praxis.core.desk import patients
from praxis.core.ledger import EventKind
from praxis.core.payments.models import PaymentAccount
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.flows import events, free_slot, jobs, set_policy
from tests.functional.test_pages_quality import check_page
from tests.functional.test_staff import make_staff
from tests.provider_fixtures import Providers
from tests.support import PASSWORD, Clinic, Person, csrf_in, login, post_form


@asynccontextmanager
async def desk_of(
    app: Any, rt: Runtime, clinic: Clinic, username: str = "desk"
) -> AsyncIterator[tuple[Person, httpx.AsyncClient]]:
    """A front-desk member of staff, signed in."""
    person = await make_staff(rt, clinic, username, Role.FRONT_DESK)
    async with client_for(app, clinic.host) as http:
        await login(http, username)
        yield person, http


async def new_record(http: httpx.AsyncClient, **fields: str) -> httpx.Response:
    return await post_form(http, "/desk/patients/new", fields)


def record_id(response: httpx.Response) -> uuid.UUID:
    assert response.status_code == 303, response.text
    return uuid.UUID(response.headers["location"].rsplit("/", 1)[1])


async def slot_form(http: httpx.AsyncClient, clinic: Clinic, **extra: str) -> dict[str, str]:
    start = datetime.fromisoformat(await free_slot(http, clinic, days_ahead=2))
    local = start.astimezone(clinic.tenant.zone)
    return {
        "consultation": f"{clinic.professional_id}/{clinic.kinds['Standard']}",
        "day": local.date().isoformat(),
        "at": local.strftime("%H:%M"),
        **extra,
    }


async def book_for(
    http: httpx.AsyncClient, person_id: uuid.UUID, form: dict[str, str]
) -> httpx.Response:
    page = f"/desk/patients/{person_id}"
    return await post_form(http, f"{page}/book", form, page=page)


async def test_front_desk_and_admins_reach_the_desk_and_nobody_else(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with desk_of(app, rt, clinic) as (_, desk):
        assert (await desk.get("/desk")).status_code == 200
        assert (await desk.get(f"/desk/patients/{clinic.consumer.id}")).status_code == 200
        for admin_page in ("/admin", "/admin/staff", "/admin/ledger", "/workspace"):
            assert (await desk.get(admin_page)).status_code == 403, admin_page
    for username, status in (
        (clinic.admin.username, 200),
        (clinic.professional.username, 403),
        (clinic.consumer.username, 403),
    ):
        async with client_for(app, clinic.host) as http:
            await login(http, username)
            assert (await http.get("/desk")).status_code == status, username
            assert (await http.get("/desk/patients/new")).status_code == status, username


async def test_a_record_without_an_account_cannot_sign_in(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with desk_of(app, rt, clinic) as (_, desk):
        made = await new_record(desk, full_name="Pat Phone", phone="07911 123456")
        pat_id = record_id(made)
    async with rt.database.reading(clinic.tenant.id) as db:
        pat = await db.get(User, (clinic.tenant.id, pat_id))
    assert pat is not None and pat.role == "consumer" and pat.email == ""
    assert pat.phone == "+447911123456" and not patients.has_account(pat)
    async with client_for(app, clinic.host) as http:
        for password in ("", patients.UNUSABLE_HASH, "correct-horse-battery"):
            tried = await post_form(
                http, "/login", {"username": pat.username, "password": password}
            )
            assert tried.status_code != 303


async def test_bad_records_answer_on_the_field_and_save_nothing(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with desk_of(app, rt, clinic) as (_, desk):
        async with rt.database.reading(clinic.tenant.id) as db:
            before = len(list(await db.scalars(select(User.id))))
        for fields, field in (
            ({"full_name": "", "phone": "07911 123456"}, "full_name"),
            ({"full_name": "No Contact"}, "phone"),
            ({"full_name": "Bad Phone", "phone": "12"}, "phone"),
            ({"full_name": "Bad Mail", "email": "not-an-email"}, "email"),
        ):
            bad = await new_record(desk, **fields)
            assert bad.status_code == 422, field
            assert f'id="f-{field}-error"' in bad.text, field
    async with rt.database.reading(clinic.tenant.id) as db:
        assert len(list(await db.scalars(select(User.id)))) == before


async def test_the_patient_list_searches_name_email_and_phone_a_page_at_a_time(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        for n in range(patients.PER_PAGE + 1):
            await patients.create_record(
                db,
                full_name=f"Zed Person {n:02d}",
                email="",
                phone=f"07911 1230{n:02d}",
                region="GB",
            )
        await db.commit()
    async with desk_of(app, rt, clinic) as (_, desk):
        first = await desk.get("/desk", params={"q": "zed person"})
        assert first.text.count("Zed Person") == patients.PER_PAGE and "Next page" in first.text
        second = await desk.get("/desk", params={"q": "zed person", "page": "2"})
        assert "Zed Person 20" in second.text and "Previous page" in second.text
        by_phone = await desk.get("/desk", params={"q": "07911 123007"})
        assert "Zed Person 07" in by_phone.text and "Zed Person 08" not in by_phone.text
        by_email = await desk.get("/desk", params={"q": "alpha.consumer@example"})
        assert "Alpha.Consumer Example" in by_email.text and "Zed" not in by_email.text
        staff = await desk.get("/desk", params={"q": "alpha.admin"})
        assert "Alpha.Admin Example" not in staff.text  # staff are no patients
        odd = await desk.get("/desk", params={"q": "%_", "page": "x"})
        assert odd.status_code == 200 and "Zed" not in odd.text


async def test_booking_by_phone_for_a_record_without_email_sends_no_email(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    async with desk_of(app, rt, clinic) as (staff, desk):
        pat_id = record_id(await new_record(desk, full_name="Pat Phone", phone="07911 123456"))
        booked = await book_for(desk, pat_id, await slot_form(desk, clinic))
        assert booked.status_code == 303, booked.text
        shown = await desk.get(f"/desk/patients/{pat_id}")
        assert "Standard" in shown.text
    async with rt.database.reading(clinic.tenant.id) as db:
        (appointment,) = await db.scalars(
            select(Appointment).where(Appointment.consumer_id == pat_id)
        )
    assert appointment.status == "booked"  # the clinic takes any payment itself
    (told,) = [e for e in await events(rt, clinic) if e.subject_id == pat_id]
    assert told.kind == EventKind.DISCLOSURE and told.actor_id == staff.id and told.reason == ""
    await providers.run_jobs()
    assert providers.mails() == []  # the record has no email address: nothing was sent
    emails = await jobs(rt, clinic, "notify.email")
    assert emails and {job.status for job in emails} == {"done"}  # not failing at "to: ''"


async def test_booking_for_a_patient_with_an_account_emails_them_and_names_the_staff(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    async with desk_of(app, rt, clinic) as (staff, desk):
        booked = await book_for(desk, clinic.consumer.id, await slot_form(desk, clinic))
        assert booked.status_code == 303, booked.text
    told = [e for e in await events(rt, clinic) if e.subject_id == clinic.consumer.id]
    assert told[-1].actor_id == staff.id and told[-1].operation == "booking"
    await providers.run_jobs()
    mails = [(m["To"], m["Subject"]) for m in providers.mails()]
    assert mails == [("alpha.consumer@example.org", "Your appointment is booked")]


async def test_overriding_the_policy_is_a_choice_and_is_recorded(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with desk_of(app, rt, clinic) as (staff, desk):
        form = await slot_form(desk, clinic)
        await set_policy(rt, clinic, minimum_notice_hours=720, cancellation_window_hours=720)
        refused = await book_for(desk, clinic.consumer.id, form)
        assert refused.status_code == 409 and 'id="f-at-error"' in refused.text
        assert not [e for e in await events(rt, clinic) if e.actor_id == staff.id]
        booked = await book_for(desk, clinic.consumer.id, {**form, "override": "yes"})
        assert booked.status_code == 303, booked.text
        async with rt.database.reading(clinic.tenant.id) as db:
            appointment_id = await db.scalar(select(Appointment.id))
        page = f"/desk/patients/{clinic.consumer.id}"
        cancel = f"{page}/appointments/{appointment_id}/cancel"
        too_late = await post_form(desk, cancel, {}, page=page)
        assert too_late.status_code == 403
        cancelled = await post_form(desk, cancel, {"override": "yes"}, page=page)
        assert cancelled.status_code == 303
    mine = [e for e in await events(rt, clinic) if e.actor_id == staff.id]
    assert [(e.operation, e.reason) for e in mine] == [
        ("booking", OVERRIDDEN),
        ("cancel", OVERRIDDEN),
    ]
    async with rt.database.reading(clinic.tenant.id) as db:
        row = await db.get(Appointment, (clinic.tenant.id, appointment_id))
    assert row is not None and row.status == "cancelled" and row.cancelled_by == staff.id


async def test_the_desk_moves_a_booking_and_bad_times_answer_on_the_field(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with desk_of(app, rt, clinic) as (staff, desk):
        assert (
            await book_for(desk, clinic.consumer.id, await slot_form(desk, clinic))
        ).status_code == 303
        async with rt.database.reading(clinic.tenant.id) as db:
            appointment_id = await db.scalar(select(Appointment.id))
        page = f"/desk/patients/{clinic.consumer.id}"
        move = f"{page}/appointments/{appointment_id}/reschedule"
        check_page((await desk.get(page)).text, page)  # labelled, well formed, with its forms
        bad = await post_form(desk, move, {"day": "someday", "at": "25:99"}, page=page)
        assert bad.status_code == 422 and 'id="f-day-error"' in bad.text
        start = datetime.fromisoformat(await free_slot(desk, clinic, days_ahead=3))
        local = start.astimezone(clinic.tenant.zone)
        moved = await post_form(
            desk, move, {"day": local.date().isoformat(), "at": local.strftime("%H:%M")}, page=page
        )
        assert moved.status_code == 303, moved.text
        nothing = await book_for(
            desk, clinic.consumer.id, {"consultation": "x", "day": "", "at": ""}
        )
        assert nothing.status_code == 422
    row = await _appointment(rt, clinic, appointment_id)
    assert row.starts_at == start
    assert [e.operation for e in await events(rt, clinic) if e.actor_id == staff.id] == [
        "booking",
        "reschedule",
    ]


async def test_another_clinics_patients_and_appointments_404(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with desk_of(app, rt, clinic) as (_, desk):
        token = csrf_in((await desk.get("/desk")).text)
        for person_id in (other_clinic.consumer.id, clinic.professional.id, uuid.uuid4()):
            assert (await desk.get(f"/desk/patients/{person_id}")).status_code == 404
            posted = await desk.post(f"/desk/patients/{person_id}/book", data={"csrf_token": token})
            assert posted.status_code == 404
        mine = f"/desk/patients/{clinic.consumer.id}/appointments/{uuid.uuid4()}/cancel"
        assert (await desk.post(mine, data={"csrf_token": token})).status_code == 404


async def _appointment(rt: Runtime, clinic: Clinic, appointment_id: uuid.UUID) -> Appointment:
    async with rt.database.reading(clinic.tenant.id) as db:
        row = await db.get(Appointment, (clinic.tenant.id, appointment_id))
        assert row is not None
        return row


async def test_a_record_with_an_email_gets_no_password_reset_link(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    async with desk_of(app, rt, clinic) as (_, desk):
        record_id(await new_record(desk, full_name="Pat Mail", email="pat.mail@example.org"))
    async with client_for(app, clinic.host) as http:
        asked = await post_form(http, "/password/forgot", {"who": "pat.mail@example.org"})
        assert asked.status_code == 303
    assert await jobs(rt, clinic, "accounts.password_reset") == []  # no account to reset


async def test_a_record_is_claimed_as_an_account_through_an_emailed_link(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    async with desk_of(app, rt, clinic) as (_, desk):
        pat_id = record_id(await new_record(desk, full_name="Pat Claim", email="pat@example.org"))
        page = f"/desk/patients/{pat_id}"
        assert "Invite to claim a portal account" in (await desk.get(page)).text
        sent = await post_form(desk, f"{page}/claim", {}, page=page)
        assert sent.status_code == 303
        phone_only = record_id(await new_record(desk, full_name="Pat Phone", phone="07911 123456"))
        other = f"/desk/patients/{phone_only}"
        assert (await post_form(desk, f"{other}/claim", {}, page=other)).status_code == 422
        has_one = f"/desk/patients/{clinic.consumer.id}"
        assert (await post_form(desk, f"{has_one}/claim", {}, page=has_one)).status_code == 409
    await providers.run_jobs()
    (mail,) = [m for m in providers.mails() if m["To"] == "pat@example.org"]
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    found = re.search(r"http://alpha\.localhost(/claim\?token=[\w-]+)", body)
    assert found, body
    link = found.group(1)
    token = link.split("=", 1)[1]
    async with client_for(app, clinic.host) as patient:
        shown = await patient.get(link)
        assert shown.status_code == 200
        check_page(shown.text, "/claim")
        choose = {"token": token, "username": "pat.claim", "password": "short", "confirm": "short"}
        bad = await post_form(patient, "/claim", choose, page=link)
        assert bad.status_code == 422 and 'id="f-password-error"' in bad.text
        good = {**choose, "password": PASSWORD, "confirm": PASSWORD}
        assert (await post_form(patient, "/claim", good, page=link)).status_code == 303
        assert (await patient.get(link)).status_code == 410  # used once
        await login(patient, "pat.claim")
        assert (await patient.get("/appointments")).status_code == 200
    async with rt.database.reading(clinic.tenant.id) as db:
        claimed = await db.get(User, (clinic.tenant.id, pat_id))
    assert claimed is not None and patients.has_account(claimed)
    async with client_for(app, clinic.host) as stranger:
        assert (await stranger.get("/claim?token=made-up")).status_code == 410


async def test_the_desk_books_a_paid_consultation_the_clinic_cannot_take_online(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    async with desk_of(app, rt, clinic) as (_, desk):
        form = await slot_form(desk, clinic)  # while the clinic's account is ready
        async with rt.database.writing(clinic.tenant.id) as db:
            [account] = await db.scalars(select(PaymentAccount))
            account.charges_enabled = False  # patients cannot book it online now
            await db.commit()
        booked = await book_for(desk, clinic.consumer.id, form)
        assert booked.status_code == 303, booked.text  # the clinic takes payment itself
    async with rt.database.reading(clinic.tenant.id) as db:
        (appointment,) = await db.scalars(select(Appointment))
    assert appointment.status == "booked" and appointment.hold_expires_at is None
