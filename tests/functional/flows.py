"""Steps the payments, video, SMS, intake and ledger tests share: book, pay, answer, travel.

Everything goes through the app as a browser would (forms with CSRF, the fakes' signed
webhooks); only the clinic's policy is changed on its row, as onboarding would.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core import ledger
from praxis.core.booking.models import Appointment
from praxis.core.db import utcnow
from praxis.core.ledger import LedgerEvent
from praxis.core.outbox import OutboxJob
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant
from tests.conftest import client_for
from tests.provider_fixtures import Providers
from tests.support import Clinic, login, post_form

CONSUMER_PHONE = "+447911123456"  # what tests.support gives every person, in E.164
ANSWERS = {
    "answer.height": "172.5",
    "answer.weight": "68",
    "answer.concerns": "Trouble sleeping since the spring.",
    "answer.takes-medicines": "false",
    "answer.share-with-professional": "true",
}
_APPOINTMENT = re.compile(r"/appointments/([0-9a-f-]{36})")
_CHECKOUT = re.compile(r'href="(http://127\.0\.0\.1:\d+/checkout/(cs_test_\w+))"')


def travel_to(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Pages see ``moment`` as now (room links, cancellation windows)."""
    monkeypatch.setattr("praxis.core.web.context.utcnow", lambda: moment)


async def signed_in(app: Any, clinic: Clinic, username: str) -> httpx.AsyncClient:
    client = client_for(app, clinic.host)
    await login(client, username)
    return client


async def set_policy(rt: Runtime, clinic: Clinic, **booking: Any) -> TenantInfo:
    """Change the clinic's booking policy (refunds, reminders...), as onboarding would."""
    async with rt.database.writing() as db:
        row = await db.get(Tenant, clinic.tenant.id)
        assert row is not None
        row.booking = {**row.booking, **booking}
        await db.commit()
        rt.directory.forget_all()
        clinic.tenant = TenantInfo.from_row(row)
    return clinic.tenant


async def free_slot(
    client: httpx.AsyncClient,
    clinic: Clinic,
    kind: str = "Standard",
    *,
    days_ahead: int = 0,
    skip: int = 0,
    professional_id: uuid.UUID | None = None,
    type_id: uuid.UUID | None = None,
) -> str:
    day = (utcnow() + timedelta(days=days_ahead)).date().isoformat()
    pro = professional_id or clinic.professional_id
    response = await client.get(
        f"/api/v1/professionals/{pro}/slots",
        params={"consultation_type_id": str(type_id or clinic.kinds[kind]), "from": day},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"][skip]["starts_at"])


async def book(
    client: httpx.AsyncClient,
    clinic: Clinic,
    kind: str = "Standard",
    *,
    days_ahead: int = 0,
    skip: int = 0,
    professional_id: uuid.UUID | None = None,
    type_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Press "Book" on a free time; the new appointment's id."""
    pro = professional_id or clinic.professional_id
    kind_id = type_id or clinic.kinds[kind]
    start = await free_slot(
        client,
        clinic,
        kind,
        days_ahead=days_ahead,
        skip=skip,
        professional_id=pro,
        type_id=kind_id,
    )
    form = {
        "professional_id": str(pro),
        "consultation_type_id": str(kind_id),
        "starts_at": start,
    }
    page = f"/professionals/{pro}/book?type={kind_id}"
    booked = await post_form(client, "/appointments", form, page=page)
    assert booked.status_code == 303, booked.text
    found = _APPOINTMENT.search(booked.headers["location"])
    assert found, booked.headers["location"]
    return uuid.UUID(found.group(1))


async def open_checkout(client: httpx.AsyncClient, appointment_id: uuid.UUID) -> str:
    """The consumer goes to the pay page; the hosted checkout's session id."""
    page = await client.get(f"/appointments/{appointment_id}/pay")
    assert page.status_code == 200, page.text
    found = _CHECKOUT.search(page.text)
    assert found, page.text
    return found.group(2)


async def pay(client: httpx.AsyncClient, providers: Providers, appointment_id: uuid.UUID) -> str:
    """Pay on the hosted page and deliver Stripe's signed webhook; the session id."""
    session_id = await open_checkout(client, appointment_id)
    providers.stripe.pay(session_id)
    await providers.deliver_new(client, "stripe")
    return session_id


async def book_and_pay(
    client: httpx.AsyncClient,
    clinic: Clinic,
    providers: Providers,
    kind: str = "Standard",
    *,
    days_ahead: int = 0,
    skip: int = 0,
) -> uuid.UUID:
    appointment_id = await book(client, clinic, kind, days_ahead=days_ahead, skip=skip)
    await pay(client, providers, appointment_id)
    return appointment_id


async def answer_intake(
    client: httpx.AsyncClient, appointment_id: uuid.UUID, *, share: bool = True
) -> None:
    answers = {**ANSWERS, "answer.share-with-professional": "true" if share else "false"}
    saved = await post_form(client, f"/appointments/{appointment_id}/intake", answers)
    assert saved.status_code == 303, saved.text


async def appointment(rt: Runtime, clinic: Clinic, appointment_id: uuid.UUID) -> Appointment:
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.get(Appointment, (clinic.tenant.id, appointment_id))
        assert found is not None
        return found


async def events(rt: Runtime, clinic: Clinic) -> list[LedgerEvent]:
    """The clinic's whole ledger, in chain order."""
    async with rt.database.reading(clinic.tenant.id) as db:
        return list(reversed(await ledger.browse(db, ledger.LedgerFilter(), limit=10_000)))


async def jobs(rt: Runtime, clinic: Clinic, topic: str | None = None) -> list[OutboxJob]:
    async with rt.database.reading(clinic.tenant.id) as db:  # the clinic's own jobs only
        query = select(OutboxJob)
        if topic:
            query = query.where(OutboxJob.topic == topic)
        return list((await db.scalars(query.order_by(OutboxJob.created_at))).all())
