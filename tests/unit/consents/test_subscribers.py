"""praxis.core.consents.subscribers, with retention (P28): a marketing-only subscriber is kept
six months after they stopped everything, then ``praxis retention run`` deletes them and the
records of their addresses; a dry run says so and changes nothing, a second run removes
nothing more, a clinic-wide legal hold pauses it, the summary is in the ledger; a record an
account relies on stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from praxis.core.consents import services as consents
from praxis.core.consents import subscribers
from praxis.core.consents.kinds import MARKETING, SERVICE_SMS, Method
from praxis.core.consents.models import ConsentRecord
from praxis.core.errors import InvalidInput
from praxis.core.ledger import EventKind, LedgerEvent
from praxis.core.privacy import holds, retention
from praxis.core.runtime import Runtime
from tests.support import Clinic

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ACCOUNT_PHONE = "+447911123456"  # what tests.support gives every consumer


async def subscribed(
    rt: Runtime,
    clinic: Clinic,
    *,
    phone: str,
    left_ago: timedelta | None,
    joined_ago: timedelta = timedelta(days=500),
) -> uuid.UUID:
    """A subscriber by text who joined ``joined_ago`` and, if ``left_ago``, sent STOP then."""
    form = subscribers.SignUpForm(phone=phone, by_sms=True)
    async with rt.database.writing(clinic.tenant.id) as db:
        await subscribers.sign_up(
            db, clinic.tenant, form, notice_version=None, now=NOW - joined_ago
        )
        joined = await db.scalar(
            select(subscribers.Subscriber.id).where(subscribers.Subscriber.phone == phone)
        )
        assert joined is not None
        await subscribers.confirm_phone(  # they opened the link texted to them
            db, clinic.tenant, joined, notice_version=None, now=NOW - joined_ago
        )
        for kind in (MARKETING["sms"], SERVICE_SMS) if left_ago is not None else ():
            await consents.record(  # STOP withdraws appointment texts from the number too
                db,
                kind,
                consents.Whose(address=phone),
                given=False,
                method=Method.SMS_KEYWORD,
                clinic=clinic.tenant.name,
                now=NOW - (left_ago or timedelta()),
            )
        await db.commit()
        found = await db.scalar(
            select(subscribers.Subscriber.id).where(subscribers.Subscriber.phone == phone)
        )
    assert found is not None
    return found


async def phones(rt: Runtime, clinic: Clinic) -> set[str | None]:
    async with rt.database.reading(clinic.tenant.id) as db:
        return set((await db.scalars(select(subscribers.Subscriber.phone))).all())


async def addresses_on_record(rt: Runtime, clinic: Clinic) -> set[str | None]:
    async with rt.database.reading(clinic.tenant.id) as db:
        return set((await db.scalars(select(ConsentRecord.address))).all())


async def run(rt: Runtime, clinic: Clinic, *, dry_run: bool = False) -> Any:
    async with rt.database.writing(clinic.tenant.id) as db:
        return await retention.run(db, clinic.tenant, now=NOW, dry_run=dry_run)


@pytest.mark.promise("P28")
async def test_a_subscriber_is_deleted_six_months_after_opting_out_and_not_before(
    rt: Runtime, clinic: Clinic
) -> None:
    await subscribed(rt, clinic, phone="+447400123456", left_ago=timedelta(days=190))
    await subscribed(rt, clinic, phone="+447400123457", left_ago=timedelta(days=150))
    await subscribed(rt, clinic, phone="+447400123458", left_ago=None)  # still wants news

    dry = await run(rt, clinic, dry_run=True)
    assert dry.subscribers_deleted == 1
    assert "  marketing-only subscribers, 6 months after opting out: 1" in dry.lines()
    assert len(await phones(rt, clinic)) == 3  # a dry run changes nothing

    report = await run(rt, clinic)
    assert report.subscribers_deleted == 1
    assert await phones(rt, clinic) == {"+447400123457", "+447400123458"}
    assert "+447400123456" not in await addresses_on_record(rt, clinic)  # its records too
    assert (await run(rt, clinic)).subscribers_deleted == 0  # nothing more the second time
    async with rt.database.reading(clinic.tenant.id) as db:
        query = select(LedgerEvent).where(LedgerEvent.kind == EventKind.RETENTION.value)
        summaries = [e.reason for e in await db.scalars(query.order_by(LedgerEvent.seq))]
    assert "1 marketing-only subscribers deleted" in summaries[0]
    assert "0 marketing-only subscribers deleted" in summaries[1]
    assert all("+4474" not in reason for reason in summaries)  # counts, never numbers


@pytest.mark.promise("P28")
async def test_a_clinic_wide_legal_hold_keeps_subscribers(rt: Runtime, clinic: Clinic) -> None:
    await subscribed(rt, clinic, phone="+447400123456", left_ago=timedelta(days=400))
    async with rt.database.writing(clinic.tenant.id) as db:
        hold = await holds.place(
            db, reason="the regulator asked", subject_id=None, placed_by=None, now=NOW
        )
        await db.commit()
    assert (await run(rt, clinic)).clinic_held
    assert await phones(rt, clinic) == {"+447400123456"}
    async with rt.database.writing(clinic.tenant.id) as db:
        await holds.lift(db, hold.id, lifted_by=None, now=NOW)
        await db.commit()
    assert (await run(rt, clinic)).subscribers_deleted == 1


async def test_a_sign_up_never_confirmed_goes_after_thirty_days(
    rt: Runtime, clinic: Clinic
) -> None:
    form = subscribers.SignUpForm(email="reader@example.net", by_email=True)
    async with rt.database.writing(clinic.tenant.id) as db:
        await subscribers.sign_up(
            db, clinic.tenant, form, notice_version=None, now=NOW - timedelta(days=31)
        )
        await subscribers.sign_up(
            db,
            clinic.tenant,
            subscribers.SignUpForm(email="new@example.net", by_email=True),
            notice_version=None,
            now=NOW - timedelta(days=3),
        )
        await db.commit()
    assert (await run(rt, clinic)).subscribers_deleted == 1
    async with rt.database.reading(clinic.tenant.id) as db:
        left = set((await db.scalars(select(subscribers.Subscriber.email))).all())
    assert left == {"new@example.net"}


async def test_a_stop_from_a_number_an_account_holds_stays_in_force(
    rt: Runtime, clinic: Clinic
) -> None:
    await subscribed(rt, clinic, phone=ACCOUNT_PHONE, left_ago=timedelta(days=400))
    assert (await run(rt, clinic)).subscribers_deleted == 1
    async with rt.database.reading(clinic.tenant.id) as db:
        whose = consents.Whose(clinic.consumer.id, ACCOUNT_PHONE)
        assert not await consents.allows(db, MARKETING["sms"], whose)
    assert ACCOUNT_PHONE in await addresses_on_record(rt, clinic)


def test_the_form_names_each_field_to_fix() -> None:
    with pytest.raises(InvalidInput) as nothing:
        subscribers.read_form({"email": "", "phone": ""})
    assert set(nothing.value.fields) == {"channels"}
    with pytest.raises(InvalidInput) as missing:
        subscribers.read_form({"by_email": "yes", "by_sms": "yes"})
    assert set(missing.value.fields) == {"email", "phone"}
    form = subscribers.read_form({"phone": "07400 123456", "by_sms": "yes"})
    assert form.phone == "+447400123456" and not form.by_email
