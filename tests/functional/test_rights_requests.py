"""Rights requests that came by email, by post or in person: staff log them, the queue shows
each deadline (one month, or three once extended with a reason), the dashboard warns a week
before, and the consumer sees the status under Account (P34, P32)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from praxis.core.privacy.models import WrittenRequest
from praxis.core.privacy.requests import months_after
from praxis.core.runtime import Runtime
from praxis.core.worker import remind_of_requests
from tests.functional.flows import events, signed_in
from tests.provider_fixtures import Providers
from tests.support import Clinic, post_form

P34 = pytest.mark.promise("P34")


def request_form(clinic: Clinic, received: date, **changes: str) -> dict[str, str]:
    form = {
        "kind": "access",
        "channel": "post",
        "consumer": clinic.consumer.username,
        "identity_check": "signed letter matching the address on the account",
        "received_on": received.isoformat(),
    }
    return form | changes


async def logged(rt: Runtime, clinic: Clinic) -> list[WrittenRequest]:
    async with rt.database.reading(clinic.tenant.id) as db:
        return list(await db.scalars(select(WrittenRequest)))


@P34
async def test_a_logged_request_is_due_a_month_after_it_arrived_and_the_person_sees_it(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    received = date.today() - timedelta(days=3)
    answer = await post_form(admin, "/admin/requests", request_form(clinic, received))
    assert answer.status_code == 303
    [request] = await logged(rt, clinic)
    assert (request.subject_id, request.kind) == (clinic.consumer.id, "access")
    assert request.due_on == months_after(received, 1)
    queue = await admin.get("/admin/requests")
    assert "Access: a copy of their data" in queue.text and request.due_on.isoformat() in queue.text
    entry = (await events(rt, clinic))[-1]
    assert (entry.operation, entry.subject_id) == ("written_request", clinic.consumer.id)
    assert "signed letter" not in (entry.reason or "")  # what was asked stays out of the ledger

    consumer = await signed_in(app, clinic, clinic.consumer.username)
    mine = await consumer.get("/account/requests")
    assert f"Open: answer due by {request.due_on.isoformat()}" in mine.text


@P34
async def test_each_bad_field_is_named_and_nothing_is_logged(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    tomorrow = date.today() + timedelta(days=1)
    bad = request_form(clinic, tomorrow, kind="wishes", consumer="nobody.here", identity_check="")
    answer = await post_form(admin, "/admin/requests", bad)
    assert answer.status_code == 422
    for message in ("cannot be in the future", "This field is required.", "Choose one of"):
        assert message in answer.text
    assert 'id="f-kind-error"' in answer.text
    assert await logged(rt, clinic) == []
    unknown = request_form(clinic, date.today(), consumer="nobody.here")
    answer = await post_form(admin, "/admin/requests", unknown)
    assert "There is no consumer with that username here." in answer.text
    assert await logged(rt, clinic) == []


@P34
async def test_a_request_is_extended_once_by_two_months_with_a_reason_then_closed(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    received = date(2026, 11, 30)
    await post_form(admin, "/admin/requests", request_form(clinic, received, kind="erasure"))
    [request] = await logged(rt, clinic)
    extend = f"/admin/requests/{request.id}/extend"
    short = await post_form(admin, extend, {"reason": "busy"}, page="/admin/requests")
    assert short.status_code == 422 and "Say why the request needs longer" in short.text
    reason = {"reason": "records from three former clinics must be gathered"}
    assert (await post_form(admin, extend, reason, page="/admin/requests")).status_code == 303
    [request] = await logged(rt, clinic)
    assert request.due_on == date(2027, 2, 28)  # three calendar months, to the month's end
    again = await post_form(admin, extend, reason, page="/admin/requests")
    assert again.status_code == 409

    close = f"/admin/requests/{request.id}/close"
    refused = await post_form(admin, close, {"outcome": "refused"}, page="/admin/requests")
    assert refused.status_code == 422 and "Say why it was refused" in refused.text
    done = {"outcome": "done", "note": ""}
    assert (await post_form(admin, close, done, page="/admin/requests")).status_code == 303
    [request] = await logged(rt, clinic)
    assert request.outcome == "done" and request.closed_at is not None
    operations = [e.operation for e in await events(rt, clinic)][-3:]
    assert operations == ["written_request", "written_request_extended", "written_request_closed"]
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    assert "Erasure of their data" in (await consumer.get("/account/requests")).text


async def test_the_dashboard_warns_a_week_before_the_deadline(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert "No rights request is due within a week." in (await admin.get("/admin")).text
    month_ago = months_after(date.today(), -1) + timedelta(days=3)  # due in about 3 days
    await post_form(admin, "/admin/requests", request_form(clinic, month_ago))
    assert "1 request is due within a week or overdue." in (await admin.get("/admin")).text


@P34
async def test_admins_are_emailed_once_a_week_before_each_deadline(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    today = date.today()
    soon = months_after(today, -1) + timedelta(days=3)  # due in about 3 days
    later = today - timedelta(days=2)  # due in about a month: no reminder yet
    for received in (soon, later):
        await post_form(admin, "/admin/requests", request_form(clinic, received, kind="erasure"))

    def reminders() -> list[Any]:
        return [m for m in providers.mails() if "rights request is due" in str(m["Subject"])]

    assert await remind_of_requests(rt, [clinic.tenant]) == 1
    assert await remind_of_requests(rt, [clinic.tenant]) == 0  # once per deadline
    await providers.run_jobs()
    [told] = reminders()
    assert clinic.admin.username in str(told["To"])
    body = told.get_payload(decode=True).decode() if not told.is_multipart() else str(told)
    assert "Erasure of their data" in body and "/admin/requests" in body
    assert clinic.consumer.username not in body  # no one is named in an email

    # Extended, the deadline moves: a new reminder comes only a week before the new one.
    [request] = [r for r in await logged(rt, clinic) if r.received_on == soon]
    await post_form(
        admin,
        f"/admin/requests/{request.id}/extend",
        {"reason": "Records held across three clinics must be gathered"},
        page="/admin/requests",
    )
    assert await remind_of_requests(rt, [clinic.tenant]) == 0
    in_two_months = datetime.now(UTC) + timedelta(days=58)
    assert await remind_of_requests(rt, [clinic.tenant], now=in_two_months) == 2


@pytest.mark.promise("P27")
async def test_another_clinics_request_cannot_be_seen_extended_or_closed(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    await post_form(admin, "/admin/requests", request_form(clinic, date.today()))
    [request] = await logged(rt, clinic)
    other = await signed_in(app, other_clinic, other_clinic.admin.username)
    assert request.identity_check not in (await other.get("/admin/requests")).text
    for action, data in (
        ("extend", {"reason": "a reason long enough"}),
        ("close", {"outcome": "done"}),
    ):
        answer = await post_form(
            other, f"/admin/requests/{request.id}/{action}", data, page="/admin/requests"
        )
        assert answer.status_code == 404
    [unchanged] = await logged(rt, clinic)
    assert unchanged.closed_at is None and unchanged.extension_reason == ""


@pytest.mark.parametrize(
    ("received", "months", "due"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_a_month_is_a_calendar_month_ending_on_the_months_last_day(
    received: date, months: int, due: date
) -> None:
    assert months_after(received, months) == due
