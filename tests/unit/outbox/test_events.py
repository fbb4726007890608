"""Domain events (praxis.core.outbox.events): a domain announces, others subscribe, all in the
announcer's transaction; and every process has every domain's subscribers (wiring)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import wiring
from praxis.core.accounts import events as account_events
from praxis.core.booking import events as booking_events
from praxis.core.db import utcnow
from praxis.core.errors import Conflict
from praxis.core.outbox import SUBSCRIBERS, Event, Happened, announce, subscribe
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from tests.support import make_tenant

SEEN = Event("test.seen", "something a test says happened", ("what",))


@pytest.fixture
def listeners() -> Iterator[list[Any]]:
    """Subscribe to SEEN for one test; the subscriber is removed afterwards."""
    heard: list[Any] = []
    yield heard
    SUBSCRIBERS.pop(SEEN.name, None)


async def test_subscribers_run_in_order_in_the_announcers_transaction(
    rt: Runtime, listeners: list[Any]
) -> None:
    tenant = await make_tenant(rt, "alpha")

    @subscribe(SEEN)
    async def first(db: AsyncSession, happened: Happened) -> None:
        listeners.append(("first", happened.payload["what"], db.in_transaction()))
        happened.follow_with("test.after", {"what": happened.payload["what"]})

    @subscribe(SEEN)
    async def second(db: AsyncSession, happened: Happened) -> None:
        listeners.append(("second", happened.tenant.slug))

    subscribe(SEEN)(first)  # subscribing twice changes nothing
    async with rt.database.writing(tenant.id) as db:
        await db.begin()
        jobs = await announce(db, tenant, SEEN, now=utcnow(), what="a booking")
    assert listeners == [("first", "a booking", True), ("second", "alpha")]
    assert [(j["topic"], j["payload"], j["tenant_id"]) for j in jobs] == [
        ("test.after", {"what": "a booking"}, tenant.id)
    ]


async def test_a_subscriber_may_refuse_and_an_event_carries_exactly_its_payload(
    rt: Runtime, listeners: list[Any]
) -> None:
    tenant: TenantInfo = await make_tenant(rt, "alpha")

    @subscribe(SEEN)
    async def refuse(db: AsyncSession, happened: Happened) -> None:
        raise Conflict("Not now.")

    async with rt.database.writing(tenant.id) as db:
        with pytest.raises(Conflict, match=r"Not now\."):
            await announce(db, tenant, SEEN, now=utcnow(), what="x")
        with pytest.raises(TypeError, match=r"test\.seen carries exactly what"):
            await announce(db, tenant, SEEN, now=utcnow(), what="x", more="y")
        with pytest.raises(TypeError):
            await announce(db, tenant, SEEN, now=utcnow())


def test_every_process_has_each_domains_subscribers() -> None:
    """Booking knows none of them; the runtime imports praxis.core.wiring, which does."""
    assert wiring.DOMAINS
    by_event = {
        name: {f"{s.__module__}.{s.__name__}" for s in found} for name, found in SUBSCRIBERS.items()
    }
    assert by_event[booking_events.APPOINTMENT_CONFIRMED.name] == {
        "praxis.core.notifications.services.confirmation_messages",
        "praxis.core.video.services.room_for_confirmed",
    }
    assert by_event[booking_events.APPOINTMENT_CANCELLED.name] == {
        "praxis.core.notifications.services.cancellation_messages",
        "praxis.core.payments.services.settle_cancellation",
        "praxis.core.video.services.no_room_for_cancelled",
    }
    assert by_event[booking_events.APPOINTMENT_REQUESTED.name] == {
        "praxis.core.payments.services.refuse_what_cannot_be_paid"
    }
    assert by_event[account_events.PERSON_ERASED.name] == {
        "praxis.core.notifications.erasure.texts_to_erase"  # privacy knows it not (P33)
    }
