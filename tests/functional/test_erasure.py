"""Closing an account (P28) and erasing it (P33) from the portal: what stops working is said
first, the password is asked again, billing records stay under a pseudonym (P30)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

import praxis.core.models  # noqa: F401  (every table on Base.metadata)
from praxis.core.accounts.models import User, UserSession
from praxis.core.booking.models import Appointment, AppointmentStatus
from praxis.core.db import Base, utcnow
from praxis.core.intake.models import IntakeResponse
from praxis.core.ledger import EventKind
from praxis.core.ledger.verify import verify
from praxis.core.notifications.erasure import ERASE_SMS_TOPIC, ERASED
from praxis.core.notifications.models import SentMessage
from praxis.core.outbox import OutboxJob
from praxis.core.payments.models import Payment, PaymentRefund, RefundStatus
from praxis.core.privacy import holds, retention
from praxis.core.privacy.models import AccountClosure
from praxis.core.runtime import Runtime
from praxis.core.worker import scan_appointments
from tests.conftest import client_for
from tests.functional.flows import (
    CONSUMER_PHONE,
    answer_intake,
    appointment,
    book,
    book_and_pay,
    events,
    jobs,
    signed_in,
)
from tests.provider_fixtures import Providers
from tests.support import (
    PASSWORD,
    Clinic,
    api_login,
    count_rows,
    csrf_in,
    person_fields,
    post_form,
)


async def user_row(rt: Runtime, clinic: Clinic, user_id: uuid.UUID) -> User:
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.scalar(select(User).where(User.id == user_id))
        assert found is not None
        return found


async def closure(rt: Runtime, clinic: Clinic, user_id: uuid.UUID) -> AccountClosure | None:
    async with rt.database.reading(clinic.tenant.id) as db:
        return await db.scalar(select(AccountClosure).where(AccountClosure.user_id == user_id))


async def sign_in_fails(app: Any, clinic: Clinic, username: str) -> bool:
    client = client_for(app, clinic.host)
    answer = await post_form(client, "/login", {"username": username, "password": PASSWORD})
    return answer.status_code != 303 and "incorrect" in answer.text


# --- closing ---------------------------------------------------------------------------------


@pytest.mark.promise("P28")
async def test_closing_says_what_stops_asks_the_password_and_starts_the_retention_clock(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    other_device = await signed_in(app, clinic, clinic.consumer.username)
    booked = await book(consumer, clinic, "Long", days_ahead=2)

    account = await consumer.get("/account")
    assert 'href="/account/close">Close my account</a>' in account.text
    page = await consumer.get("/account/close")
    assert page.status_code == 200
    assert "you can no longer sign in" in page.text
    assert "cancels your 1 upcoming booking" in page.text
    assert "keeps your data for 6 months, then erases it" in page.text

    wrong = await post_form(consumer, "/account/close", {"password": "not-my-password"})
    assert wrong.status_code == 422
    assert "That is not your password" in wrong.text and 'id="f-password-error"' in wrong.text
    assert await closure(rt, clinic, clinic.consumer.id) is None  # nothing changed
    assert (await consumer.get("/account")).status_code == 200

    closed = await post_form(consumer, "/account/close", {"password": PASSWORD})
    assert closed.status_code == 303 and closed.headers["location"] == "/"
    row = await closure(rt, clinic, clinic.consumer.id)
    assert row is not None and row.erased_at is None and not row.erase_requested
    assert abs((row.closed_at - utcnow()).total_seconds()) < 60  # the clock starts now
    # Every session ended: this browser and the other device are signed out.
    for browser in (consumer, other_device):
        assert (await browser.get("/account")).headers["location"].startswith("/login")
    assert await count_rows(rt, clinic, UserSession) == 0
    assert await sign_in_fails(app, clinic, clinic.consumer.username)
    # The booking still to come is cancelled, and the closure is in the ledger.
    async with rt.database.reading(clinic.tenant.id) as db:
        appointment = await db.get(Appointment, (clinic.tenant.id, booked))
        assert appointment is not None
        assert appointment.status == AppointmentStatus.CANCELLED.value
    (event,) = [e for e in await events(rt, clinic) if e.operation == "account_closed"]
    assert event.subject_id == clinic.consumer.id and event.kind == EventKind.RIGHTS_REQUEST
    # The data itself is kept until the period ends.
    kept = await user_row(rt, clinic, clinic.consumer.id)
    assert kept.email == f"{clinic.consumer.username}@example.org" and not kept.is_active


async def test_staff_cannot_close_their_account_from_the_portal(app: Any, clinic: Clinic) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert (await admin.get("/account/close")).status_code == 403
    assert (await admin.get("/account/erase")).status_code == 403


# --- erasure ---------------------------------------------------------------------------------


@pytest.mark.promise("P33")
@pytest.mark.promise("P30")
async def test_erasing_cancels_refunds_erases_and_keeps_billing_under_a_pseudonym(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    paid = await book_and_pay(consumer, clinic, providers, days_ahead=3)  # video, 40.00
    await answer_intake(consumer, paid)
    await providers.run_jobs()
    assert len(providers.whereby.meetings) == 1
    original = await user_row(rt, clinic, clinic.consumer.id)

    page = await consumer.get("/account/erase")
    assert page.status_code == 200 and "This cannot be undone" in page.text
    assert "cancels your 1 upcoming booking" in page.text
    assert "keeps your payment records for 6 years" in page.text
    wrong = await post_form(consumer, "/account/erase", {"password": ""})
    assert wrong.status_code == 422 and "That is not your password" in wrong.text
    assert (await user_row(rt, clinic, clinic.consumer.id)).email == original.email

    erased = await post_form(consumer, "/account/erase", {"password": PASSWORD})
    assert erased.status_code == 303
    assert (await consumer.get("/account")).headers["location"].startswith("/login")
    await providers.run_jobs()

    # Personal data gone: the row is a tombstone named by a pseudonym.
    tombstone = await user_row(rt, clinic, clinic.consumer.id)
    assert tombstone.username.startswith("erased-") and not tombstone.is_active
    for value in (tombstone.email, tombstone.phone, tombstone.address_line1, tombstone.postcode):
        assert value == ""
    assert original.full_name not in tombstone.full_name
    assert tombstone.password_hash == "!" and tombstone.totp_secret is None
    assert await sign_in_fails(app, clinic, original.username)
    async with rt.database.reading(clinic.tenant.id) as db:
        answers = await db.scalars(
            select(IntakeResponse).where(IntakeResponse.consumer_id == clinic.consumer.id)
        )
        assert list(answers) == []
        appointment = await db.get(Appointment, (clinic.tenant.id, paid))
        assert appointment is not None
        assert appointment.status == AppointmentStatus.CANCELLED.value
        # The billing record stays for tax, refunded by the clinic's policy (in full, this
        # far ahead), and names only the pseudonymous account.
        (payment,) = (await db.scalars(select(Payment))).all()
        (refund,) = (await db.scalars(select(PaymentRefund))).all()
    assert payment.consumer_id == clinic.consumer.id and payment.amount_minor == 4000
    assert refund.status == RefundStatus.SUCCEEDED.value and refund.amount_minor == 4000
    # The provider that held the room was asked to delete it, through the facade.
    assert providers.whereby.meetings == {}
    # Nobody was messaged about the cancellation: the contact details are gone.
    messages = [j for j in await jobs_of(rt, clinic) if j.payload.get("template") == "cancelled"]
    assert messages == []
    # The ledger records the erasure, never what was erased; its chain still verifies.
    ledger_events = await events(rt, clinic)
    (event,) = [e for e in ledger_events if e.operation == "erasure"]
    assert event.subject_id == clinic.consumer.id and event.kind == EventKind.RIGHTS_REQUEST
    for recorded in ledger_events:
        text = " ".join(str(v) for v in vars(recorded).values())
        for secret in (original.email, original.full_name, original.postcode, "+447911123456"):
            assert secret not in text
    async with rt.database.reading(clinic.tenant.id) as db:
        assert (await verify(db, clinic.tenant.id, rt.ledger_key.public)).ok


@pytest.mark.promise("P33")
async def test_the_texts_an_erased_consumer_got_are_erased_at_the_sms_provider(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    booked = await book_and_pay(consumer, clinic, providers, "Long", days_ahead=3)  # in person
    await providers.run_jobs()  # the confirmation
    eve = (await appointment(rt, clinic, booked)).starts_at - timedelta(hours=23)
    assert await scan_appointments(rt, [clinic.tenant], now=eve) == (1, 0)
    await providers.run_jobs(now=eve)  # the reminder
    texts = [m for m in providers.twilio.messages if m.to == CONSUMER_PHONE]
    assert len(texts) == 2 and any("reminder" in m.body for m in texts)

    erased = await post_form(consumer, "/account/erase", {"password": PASSWORD})
    assert erased.status_code == 303
    assert len(await jobs(rt, clinic, ERASE_SMS_TOPIC)) == 2  # one job per text
    await providers.run_jobs()

    # Twilio holds none of them any more: each was deleted through the plugin.
    assert [m for m in providers.twilio.messages if m.to == CONSUMER_PHONE] == []
    async with rt.database.reading(clinic.tenant.id) as db:
        statuses = await db.scalars(select(SentMessage.status).where(SentMessage.channel == "sms"))
        assert list(statuses) == [ERASED, ERASED]
    # The ledger: each text's erasure asked of Twilio and done, and none says what was erased.
    ledger_events = await events(rt, clinic)
    asked = [e for e in ledger_events if e.kind == EventKind.ERASURE and e.attempt_seq is None]
    done = {e.attempt_seq: e.status for e in ledger_events if e.kind == EventKind.ERASURE}
    assert len(asked) == 2 and len({e.correlation_id for e in asked}) == 2
    for entry in asked:
        assert (entry.recipient, entry.plugin, entry.operation) == (
            "Twilio Ireland Limited",
            "sms_twilio",
            "erase_message",
        )
        assert entry.subject_id == clinic.consumer.id and done[entry.seq] == "succeeded"
    (erasure,) = [e for e in ledger_events if e.operation == "erasure"]
    assert "2 messages asked to be erased at providers" in erasure.reason
    for recorded in ledger_events:
        text = " ".join(str(v) for v in vars(recorded).values())
        assert CONSUMER_PHONE not in text and "07911 123456" not in text
        assert not any(m.body in text or m.sid in text for m in texts)


async def jobs_of(rt: Runtime, clinic: Clinic) -> list[OutboxJob]:
    async with rt.database.reading(clinic.tenant.id) as db:
        return list((await db.scalars(select(OutboxJob))).all())


@pytest.mark.promise("P33")
async def test_an_erasure_asked_for_under_a_legal_hold_waits_for_the_hold_to_end(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        hold = await holds.place(
            db,
            reason="a claim is pending",
            subject_id=clinic.consumer.id,
            placed_by=None,
            now=utcnow(),
        )
        await db.commit()
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    answer = await post_form(consumer, "/account/erase", {"password": PASSWORD})
    assert answer.status_code == 303
    home = await consumer.get(answer.headers["location"])
    assert "must keep your records for now because of a legal obligation" in home.text
    row = await closure(rt, clinic, clinic.consumer.id)
    assert row is not None and row.erase_requested and row.erased_at is None
    assert (await user_row(rt, clinic, clinic.consumer.id)).email != ""  # kept while held
    assert await sign_in_fails(app, clinic, clinic.consumer.username)  # but closed

    async with rt.database.writing(clinic.tenant.id) as db:
        await holds.lift(db, hold.id, lifted_by=None, now=utcnow())
        await db.commit()
    async with rt.database.writing(clinic.tenant.id) as db:
        report = await retention.run(db, clinic.tenant, now=utcnow())
    # Erased, and with no billing record or room left to refer to it, deleted outright.
    assert report.accounts_erased == 1 and report.accounts_deleted == 1
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await db.scalar(select(User).where(User.id == clinic.consumer.id)) is None


@pytest.mark.promise("P30")
async def test_no_cascade_can_delete_a_payment(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    # Billing records hold no foreign key to anything outside billing...
    assert Base.metadata.tables["payments"].foreign_keys == set()
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await book_and_pay(consumer, clinic, providers, days_ahead=3)
    # ...so deleting the person and their appointments, as the database allows, leaves them.
    async with rt.database.writing(clinic.tenant.id) as db:
        await db.execute(delete(Appointment))
        await db.execute(delete(User).where(User.id == clinic.consumer.id))
        await db.commit()
    assert await count_rows(rt, clinic, Appointment) == 0
    assert await count_rows(rt, clinic, Payment) == 1


async def test_a_new_account_may_use_a_closed_accounts_username_only_once_it_is_erased(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await post_form(consumer, "/account/erase", {"password": PASSWORD})
    newcomer = client_for(app, clinic.host)
    form = person_fields(clinic.consumer.username)
    page = await newcomer.get("/register")
    registered = await newcomer.post("/register", data={**form, "csrf_token": csrf_in(page.text)})
    assert registered.status_code == 303, registered.text


# --- the same through the API ----------------------------------------------------------------


@pytest.mark.promise("P33")
async def test_the_api_erases_my_account_with_my_password(
    client: Any, rt: Runtime, clinic: Clinic
) -> None:
    headers = await api_login(client, clinic.consumer.username)
    wrong = await client.request(
        "DELETE", "/api/v1/me", json={"password": "not-it"}, headers=headers
    )
    assert wrong.status_code == 422
    assert set(wrong.json()["error"]["fields"]) == {"password"}
    assert (await client.get("/api/v1/me")).status_code == 200  # nothing changed

    erased = await client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=headers
    )
    assert erased.status_code == 200 and erased.json()["erased"] is True
    assert (await client.get("/api/v1/me")).status_code == 401
    tombstone = await user_row(rt, clinic, clinic.consumer.id)
    assert tombstone.username.startswith("erased-") and tombstone.email == ""
    operations = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert "delete" in operations["/api/v1/me"] and "post" in operations["/api/v1/me/close"]


@pytest.mark.promise("P28")
async def test_the_api_closes_my_account_with_my_password(
    client: Any, rt: Runtime, clinic: Clinic
) -> None:
    headers = await api_login(client, clinic.consumer.username)
    closed = await client.post("/api/v1/me/close", json={"password": PASSWORD}, headers=headers)
    assert closed.status_code == 200 and closed.json()["erased"] is False
    assert (await client.get("/api/v1/me")).status_code == 401
    row = await closure(rt, clinic, clinic.consumer.id)
    assert row is not None and row.erased_at is None
    assert (await user_row(rt, clinic, clinic.consumer.id)).email != ""  # until the period ends


# --- legal holds, placed by the clinic ------------------------------------------------------


@pytest.mark.promise("P28")
async def test_a_clinic_admin_places_and_lifts_a_legal_hold_and_retention_obeys(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert 'href="/admin/holds">Legal holds</a>' in (await admin.get("/admin")).text
    page = await admin.get("/admin/holds")
    assert "No legal hold is in place" in page.text
    unknown = await post_form(admin, "/admin/holds", {"consumer": "nobody", "reason": "x"})
    assert unknown.status_code == 422
    assert "There is no consumer with that username here." in unknown.text
    placed = await post_form(
        admin,
        "/admin/holds",
        {"consumer": clinic.consumer.username, "reason": "A claim received on 3 March"},
    )
    assert placed.status_code == 303
    listed = await admin.get("/admin/holds")
    assert clinic.consumer.username in listed.text and "A claim received on 3 March" in listed.text

    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await post_form(consumer, "/account/close", {"password": PASSWORD})
    later = utcnow() + timedelta(days=400)
    async with rt.database.writing(clinic.tenant.id) as db:
        held = await retention.run(db, clinic.tenant, now=later)
    assert held.accounts_erased == 0 and held.kept_for_holds == 1

    async with rt.database.reading(clinic.tenant.id) as db:
        (hold,) = await holds.in_force(db)
    lifted = await post_form(admin, f"/admin/holds/{hold.id}/lift", {}, page="/admin/holds")
    assert lifted.status_code == 303
    assert "No legal hold is in place" in (await admin.get("/admin/holds")).text
    async with rt.database.writing(clinic.tenant.id) as db:
        assert (await retention.run(db, clinic.tenant, now=later)).accounts_erased == 1
    recorded = [e.operation for e in await events(rt, clinic) if e.actor_id == clinic.admin.id]
    assert recorded == ["legal_hold_placed", "legal_hold_lifted"]


async def test_only_clinic_admins_manage_legal_holds(app: Any, clinic: Clinic) -> None:
    pro = await signed_in(app, clinic, clinic.professional.username)
    assert (await pro.get("/admin/holds")).status_code == 403


async def test_the_api_says_when_a_legal_hold_makes_an_erasure_wait(
    client: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        await holds.place(
            db, reason="the regulator asked", subject_id=None, placed_by=None, now=utcnow()
        )
        await db.commit()
    headers = await api_login(client, clinic.consumer.username)
    held = await client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=headers
    )
    assert held.status_code == 409 and held.json()["error"]["code"] == "legal_hold"
    assert (await client.get("/api/v1/me")).status_code == 401  # closed, signed out
    row = await closure(rt, clinic, clinic.consumer.id)
    assert row is not None and row.erase_requested and row.erased_at is None


@pytest.mark.promise("P28")
async def test_the_retention_page_shows_who_waits_for_erasure_and_what_the_next_run_removes(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await post_form(consumer, "/account/close", {"password": PASSWORD})
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert 'href="/admin/retention">Retention</a>' in (await admin.get("/admin")).text
    page = await admin.get("/admin/retention")
    assert page.status_code == 200
    assert "erased 6 months after closing" in page.text
    assert clinic.consumer.username in page.text
    assert "Closed accounts to erase: 0" in page.text  # not before the period ends
    assert "Last run: not yet." in page.text
    # Asking for erasure under a hold: it waits, and the page says so.
    async with rt.database.writing(clinic.tenant.id) as db:
        await holds.place(
            db, reason="a claim", subject_id=clinic.consumer.id, placed_by=None, now=utcnow()
        )
        await db.commit()
    assert "Yes: waits" in (await admin.get("/admin/retention")).text
    pro = await signed_in(app, clinic, clinic.professional.username)
    assert (await pro.get("/admin/retention")).status_code == 403
