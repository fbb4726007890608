"""praxis.core.booking.services, called as the pages call it: a booking holds its time under
a key no second booking can take, writes its ledger line and announces its confirmation in
the same transaction; the domains that follow (messages, video, payments) add their jobs
without booking knowing them; cancelling frees the time and announces that too."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from praxis.core.accounts.models import User
from praxis.core.booking import services as booking
from praxis.core.booking.forms import BookingRequest
from praxis.core.booking.models import HOLD_MINUTES, Appointment, AppointmentStatus, SlotHold
from praxis.core.db import utcnow
from praxis.core.errors import Conflict
from praxis.core.ledger import EventKind, LedgerEvent
from praxis.core.notifications.services import EMAIL_TOPIC, SMS_TOPIC
from praxis.core.outbox import OutboxJob
from praxis.core.runtime import Runtime
from praxis.core.video.services import CREATE_TOPIC, DELETE_TOPIC
from praxis.tenants.directory import TenantInfo
from tests.provider_fixtures import use_providers
from tests.support import Clinic


async def free_start(rt: Runtime, tenant: TenantInfo, clinic: Clinic, *, days: int = 3) -> datetime:
    day = (utcnow() + timedelta(days=days)).astimezone(tenant.zone).date()
    async with rt.database.reading(tenant.id) as db:
        starts = await booking.slots(
            db,
            tenant,
            professional_id=clinic.professional_id,
            type_id=clinic.kinds["Standard"],
            first_day=day,
            last_day=day,
            now=utcnow(),
        )
    return starts[0]


async def book(rt: Runtime, tenant: TenantInfo, clinic: Clinic, start: datetime) -> Appointment:
    request = BookingRequest(
        professional_id=clinic.professional_id,
        consultation_type_id=clinic.kinds["Standard"],
        starts_at=start,
    )
    async with rt.database.writing(tenant.id) as db:
        consumer = await db.get(User, (tenant.id, clinic.consumer.id))
        assert consumer is not None
        return await booking.book(db, tenant, consumer, request, now=utcnow())


async def topics(rt: Runtime, tenant: TenantInfo) -> list[str]:
    async with rt.database.reading(tenant.id) as db:
        return sorted(await db.scalars(select(OutboxJob.topic)))


async def test_a_booking_is_held_recorded_and_announced_in_one_transaction(
    rt: Runtime, clinic: Clinic
) -> None:
    tenant = await use_providers(
        rt, clinic.tenant.id, {"sms": "sms_twilio", "email": "email_smtp", "video": "video_whereby"}
    )
    appointment = await book(rt, tenant, clinic, await free_start(rt, tenant, clinic))
    assert appointment.status == AppointmentStatus.BOOKED.value
    # Booking announced it; messages and video each added their jobs to the same commit.
    assert await topics(rt, tenant) == sorted([EMAIL_TOPIC, SMS_TOPIC, CREATE_TOPIC])
    async with rt.database.reading(tenant.id) as db:
        holds = await db.scalar(select(func.count()).select_from(SlotHold))
        [seen] = await db.scalars(select(LedgerEvent))
    assert holds == 30 // HOLD_MINUTES  # thirty minutes, in the diary's units
    assert (seen.kind, seen.recipient_id, seen.subject_id) == (
        EventKind.DISCLOSURE.value,
        clinic.professional_id,
        clinic.consumer.id,
    )


async def test_a_time_taken_or_not_offered_is_refused_and_nothing_is_written(
    rt: Runtime, clinic: Clinic
) -> None:
    tenant = clinic.tenant
    start = await free_start(rt, tenant, clinic)
    await book(rt, tenant, clinic, start)
    with pytest.raises(Conflict, match="it has just been booked"):
        await book(rt, tenant, clinic, start)
    with pytest.raises(Conflict, match="choose one of the times shown"):
        await book(rt, tenant, clinic, start.replace(hour=3))  # before the diary opens
    async with rt.database.reading(tenant.id) as db:
        assert await db.scalar(select(func.count()).select_from(Appointment)) == 1
        assert await db.scalar(select(func.count()).select_from(LedgerEvent)) == 1


async def test_cancelling_frees_the_time_and_the_other_domains_follow(
    rt: Runtime, clinic: Clinic
) -> None:
    tenant = await use_providers(
        rt, clinic.tenant.id, {"sms": "sms_twilio", "video": "video_whereby"}
    )
    start = await free_start(rt, tenant, clinic, days=5)
    appointment = await book(rt, tenant, clinic, start)
    async with rt.database.writing(tenant.id) as db:
        consumer = await db.get(User, (tenant.id, clinic.consumer.id))
        assert consumer is not None
        cancelled = await booking.cancel_by_consumer(
            db, tenant, consumer, appointment.id, now=utcnow()
        )
    assert cancelled.status == AppointmentStatus.CANCELLED.value
    assert (await topics(rt, tenant)).count(SMS_TOPIC) == 2  # confirmed, then cancelled
    assert DELETE_TOPIC in await topics(rt, tenant)
    rebooked = await book(rt, tenant, clinic, start)  # the time is free again
    assert rebooked.id != appointment.id
