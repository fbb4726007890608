"""praxis.core.privacy.retention: closed accounts erased after the clinic's period (P28),
billing records kept for billing_years and then deleted (P30), legal holds pause it, a dry run
changes nothing, a second run removes nothing more, and each run leaves its counts in the
ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from praxis.core.accounts.models import User
from praxis.core.booking.models import Appointment, AppointmentStatus
from praxis.core.db import utcnow
from praxis.core.ledger import EventKind, LedgerEvent
from praxis.core.ledger.verify import verify
from praxis.core.outbox import OutboxJob
from praxis.core.payments.models import Payment, PaymentRefund
from praxis.core.privacy import erasure, holds, retention
from praxis.core.privacy.closing import close_account
from praxis.core.privacy.models import AccountClosure
from praxis.core.runtime import Runtime
from praxis.core.video.models import VideoMeeting
from praxis.core.video.services import DELETE_TOPIC
from praxis.core.worker import run_retention
from tests.support import Clinic, make_consumer

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 15, 9, tzinfo=UTC), 6, datetime(2025, 7, 15, 9, tzinfo=UTC)),
        (datetime(2026, 12, 6, tzinfo=UTC), 72, datetime(2020, 12, 6, tzinfo=UTC)),
        (datetime(2024, 2, 29, tzinfo=UTC), 12, datetime(2023, 2, 28, tzinfo=UTC)),
    ],
)
def test_months_before_counts_calendar_months(
    moment: datetime, months: int, expected: datetime
) -> None:
    assert retention.months_before(moment, months) == expected


async def closed(rt: Runtime, clinic: Clinic, username: str, *, ago: timedelta) -> uuid.UUID:
    """A consumer whose account was closed ``ago`` before NOW."""
    person = await make_consumer(rt, clinic.tenant, username)
    async with rt.database.writing(clinic.tenant.id) as db:
        user = await db.scalar(select(User).where(User.id == person.id))
        assert user is not None
        await close_account(db, clinic.tenant, user, now=NOW - ago, by=user.id)
        await db.commit()
    return person.id


async def billed(
    rt: Runtime, clinic: Clinic, consumer_id: uuid.UUID, *, ago: timedelta
) -> uuid.UUID:
    """A paid billing record (with a refund) made ``ago`` before NOW."""
    made = NOW - ago
    payment = Payment(
        id=uuid.uuid4(),
        appointment_id=uuid.uuid4(),
        consumer_id=consumer_id,
        plugin="payments_stripe",
        account_ref="acct_test",
        checkout_ref=f"cs_{uuid.uuid4().hex}",
        checkout_url="https://checkout.example/pay",
        payment_ref=f"pi_{uuid.uuid4().hex}",
        amount_minor=4000,
        currency="GBP",
        status="paid",
        created_at=made,
        expires_at=made + timedelta(minutes=30),
        paid_at=made,
    )
    async with rt.database.writing(clinic.tenant.id) as db:
        db.add(payment)
        await db.flush()
        db.add(PaymentRefund(payment_id=payment.id, amount_minor=1000, reason="goodwill"))
        await db.commit()
    return payment.id


async def user_of(rt: Runtime, clinic: Clinic, user_id: uuid.UUID) -> User | None:
    async with rt.database.reading(clinic.tenant.id) as db:
        return await db.scalar(select(User).where(User.id == user_id))


async def payment_ids(rt: Runtime, clinic: Clinic) -> set[uuid.UUID]:
    async with rt.database.reading(clinic.tenant.id) as db:
        return set((await db.scalars(select(Payment.id))).all())


async def summaries(rt: Runtime, clinic: Clinic) -> list[LedgerEvent]:
    async with rt.database.reading(clinic.tenant.id) as db:
        query = select(LedgerEvent).where(LedgerEvent.kind == EventKind.RETENTION.value)
        return list((await db.scalars(query.order_by(LedgerEvent.seq))).all())


async def run(rt: Runtime, clinic: Clinic, *, now: datetime = NOW, dry_run: bool = False) -> Any:
    async with rt.database.writing(clinic.tenant.id) as db:
        return await retention.run(db, clinic.tenant, now=now, dry_run=dry_run)


@pytest.mark.promise("P28")
async def test_a_closed_account_is_erased_once_the_clinics_period_has_passed(
    rt: Runtime, clinic: Clinic
) -> None:
    old = await closed(rt, clinic, "old.leaver", ago=timedelta(days=190))
    recent = await closed(rt, clinic, "new.leaver", ago=timedelta(days=150))
    report = await run(rt, clinic)
    assert report.accounts_erased == 1 and report.erased_ids == [old]
    # Nothing refers to the erased account any more: it is deleted outright.
    assert report.accounts_deleted == 1 and await user_of(rt, clinic, old) is None
    kept = await user_of(rt, clinic, recent)
    assert kept is not None and kept.email == "new.leaver@example.org"
    assert "alpha: removed 2 records" in report.lines()


@pytest.mark.promise("P28")
async def test_a_dry_run_says_what_it_would_remove_and_changes_nothing(
    rt: Runtime, clinic: Clinic
) -> None:
    leaver = await closed(rt, clinic, "old.leaver", ago=timedelta(days=400))
    ancient = await billed(rt, clinic, clinic.consumer.id, ago=timedelta(days=7 * 366))
    dry = await run(rt, clinic, dry_run=True)
    assert dry.dry_run and dry.lines()[0] == "alpha: would remove 3 records"
    assert (dry.accounts_erased, dry.billing_records_deleted, dry.accounts_deleted) == (1, 1, 1)
    assert await user_of(rt, clinic, leaver) is not None
    assert ancient in await payment_ids(rt, clinic)
    assert await summaries(rt, clinic) == []  # a dry run writes nothing, not even the ledger

    real = await run(rt, clinic)
    assert (real.accounts_erased, real.billing_records_deleted, real.accounts_deleted) == (1, 1, 1)


@pytest.mark.promise("P28")
async def test_running_again_removes_nothing_more_and_each_run_is_in_the_ledger(
    rt: Runtime, clinic: Clinic
) -> None:
    await closed(rt, clinic, "old.leaver", ago=timedelta(days=200))
    first = await run(rt, clinic)
    second = await run(rt, clinic, now=NOW + timedelta(days=1))
    assert first.removed == 2 and second.removed == 0
    one, two = await summaries(rt, clinic)
    assert one.reason.startswith("1 closed accounts erased") and one.subject_id is None
    assert two.reason.startswith("0 closed accounts erased")
    assert "old.leaver" not in one.reason  # counts only, never who
    async with rt.database.reading(clinic.tenant.id) as db:
        assert (await verify(db, clinic.tenant.id, rt.ledger_key.public)).ok


@pytest.mark.promise("P30")
async def test_billing_records_stay_for_billing_years_even_after_erasure_then_go(
    rt: Runtime, clinic: Clinic
) -> None:
    leaver = await closed(rt, clinic, "payer", ago=timedelta(days=200))
    recent = await billed(rt, clinic, leaver, ago=timedelta(days=5 * 365))
    old = await billed(rt, clinic, leaver, ago=timedelta(days=6 * 366))
    report = await run(rt, clinic)
    assert report.accounts_erased == 1 and report.billing_records_deleted == 1
    assert await payment_ids(rt, clinic) == {recent}  # its refund went with the old one
    assert old not in await payment_ids(rt, clinic)
    tombstone = await user_of(rt, clinic, leaver)
    assert tombstone is not None and tombstone.username.startswith("erased-")
    assert tombstone.email == "" and report.accounts_deleted == 0  # still billed: kept

    later = await run(rt, clinic, now=NOW + timedelta(days=366))
    assert later.billing_records_deleted == 1 and later.accounts_deleted == 1
    assert await payment_ids(rt, clinic) == set()
    assert await user_of(rt, clinic, leaver) is None
    async with rt.database.reading(clinic.tenant.id) as db:
        assert list(await db.scalars(select(PaymentRefund))) == []


@pytest.mark.promise("P28")
async def test_legal_holds_pause_retention_for_a_person_or_the_whole_clinic(
    rt: Runtime, clinic: Clinic
) -> None:
    held = await closed(rt, clinic, "held.leaver", ago=timedelta(days=400))
    free = await closed(rt, clinic, "free.leaver", ago=timedelta(days=400))
    async with rt.database.writing(clinic.tenant.id) as db:
        person = await holds.place(
            db, reason="a claim is pending", subject_id=held, placed_by=None, now=NOW
        )
        everyone = await holds.place(
            db, reason="the regulator asked", subject_id=None, placed_by=None, now=NOW
        )
        await db.commit()

    paused = await run(rt, clinic)
    assert paused.clinic_held and paused.removed == 0
    assert paused.lines() == ["alpha: nothing removed: a legal hold covers the whole clinic"]
    assert await user_of(rt, clinic, free) is not None
    (summary,) = await summaries(rt, clinic)
    assert summary.reason == "paused: a legal hold covers the whole clinic"

    async with rt.database.writing(clinic.tenant.id) as db:
        await holds.lift(db, everyone.id, lifted_by=None, now=NOW)
        await db.commit()
    partly = await run(rt, clinic)
    assert partly.erased_ids == [free] and partly.kept_for_holds == 1
    kept = await user_of(rt, clinic, held)
    assert kept is not None and kept.email == "held.leaver@example.org"

    async with rt.database.writing(clinic.tenant.id) as db:
        await holds.lift(db, person.id, lifted_by=None, now=NOW)
        await db.commit()
    assert (await run(rt, clinic)).erased_ids == [held]


async def test_a_hold_needs_a_reason(rt: Runtime, clinic: Clinic) -> None:
    from praxis.core.errors import InvalidInput

    async with rt.database.writing(clinic.tenant.id) as db:
        with pytest.raises(InvalidInput) as refused:
            await holds.place(db, reason="  ", subject_id=None, placed_by=None, now=NOW)
    assert "reason" in refused.value.fields


async def test_the_worker_runs_retention_about_once_a_day(rt: Runtime, clinic: Clinic) -> None:
    await closed(rt, clinic, "old.leaver", ago=timedelta(days=400))
    now = utcnow()
    assert await run_retention(rt, [clinic.tenant], now=now) == 2
    assert await run_retention(rt, [clinic.tenant], now=now + timedelta(hours=1)) == 0
    assert len(await summaries(rt, clinic)) == 1  # a minute's scan does not run it again
    await run_retention(rt, [clinic.tenant], now=now + timedelta(hours=24))
    assert len(await summaries(rt, clinic)) == 2
    async with rt.database.reading(clinic.tenant.id) as db:
        closures = list(await db.scalars(select(AccountClosure)))
    assert closures == []


async def test_an_erased_account_waits_for_its_rooms_deletion_before_it_goes(
    rt: Runtime, clinic: Clinic
) -> None:
    """The deletion job reads the room's row: the account (and the rows under it) stays until
    the provider confirmed it, or the job has long finished trying."""
    person = await make_consumer(rt, clinic.tenant, "video.leaver")
    start = NOW - timedelta(days=30)
    async with rt.database.writing(clinic.tenant.id) as db:
        appointment = Appointment(
            id=uuid.uuid4(),
            professional_id=clinic.professional_id,
            consumer_id=person.id,
            consultation_type_id=clinic.kinds["Standard"],
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            status=AppointmentStatus.BOOKED.value,
            mode="video",
            price_minor=0,
            currency="GBP",
        )
        db.add(appointment)
        await db.flush()
        db.add(
            VideoMeeting(
                appointment_id=appointment.id,
                plugin="video_whereby",
                meeting_ref="m-1",
                room_url_sealed="sealed",
                host_url_sealed="sealed",
                ends_at=start + timedelta(hours=1),
            )
        )
        user = await db.scalar(select(User).where(User.id == person.id))
        assert user is not None
        await erasure.erase(db, clinic.tenant, user, now=NOW, actor_id=None)
        await db.commit()
        (deletion,) = (await db.scalars(select(OutboxJob))).all()
    assert deletion.topic == DELETE_TOPIC  # the provider is asked to delete the room

    assert (await run(rt, clinic)).accounts_deleted == 0
    assert await user_of(rt, clinic, person.id) is not None
    week_later = await run(rt, clinic, now=NOW + timedelta(days=8))
    assert week_later.accounts_deleted == 1
    assert await user_of(rt, clinic, person.id) is None
