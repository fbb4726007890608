"""Receipts: a patient prints their own, the clinic's admins print any from the payments page;
another patient's, another clinic's and an unpaid booking's answer 404."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from praxis.core.payments.models import Payment
from praxis.core.payments.receipts import number_of
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.flows import book_and_pay
from tests.provider_fixtures import Providers
from tests.support import Clinic, login, make_consumer


async def paid(rt: Runtime, app: Any, clinic: Clinic, providers: Providers) -> Payment:
    async with client_for(app, clinic.host) as patient:
        await login(patient, clinic.consumer.username)
        await book_and_pay(patient, clinic, providers, days_ahead=2)
    async with rt.database.reading(clinic.tenant.id) as db:
        [payment] = await db.scalars(select(Payment))
    return payment


async def test_a_patient_prints_the_receipt_of_their_own_paid_appointment(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    payment = await paid(rt, app, clinic, providers)
    async with client_for(app, clinic.host) as patient:
        await login(patient, clinic.consumer.username)
        shown = await patient.get(f"/appointments/{payment.appointment_id}")
        assert f'href="/appointments/{payment.appointment_id}/receipt"' in shown.text
        page = await patient.get(f"/appointments/{payment.appointment_id}/receipt")
    assert page.status_code == 200
    assert f"Receipt {number_of(payment)}" in page.text
    assert clinic.tenant.controller.legal_name in page.text
    assert payment.amount_minor == 4000 and "£40.00" in page.text and "Print" in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_the_clinics_admin_lists_payments_and_prints_any_receipt(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    payment = await paid(rt, app, clinic, providers)
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        listing = await admin.get("/admin/payments")
        link = f"/admin/payments/{payment.id}/receipt"
        assert link in listing.text and "Recent payments" in listing.text
        receipt = await admin.get(link)
    assert receipt.status_code == 200 and f"Receipt {number_of(payment)}" in receipt.text


async def test_nobody_else_sees_a_receipt(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic, providers: Providers
) -> None:
    payment = await paid(rt, app, clinic, providers)
    other = await make_consumer(rt, clinic.tenant, "alpha.other")
    async with client_for(app, clinic.host) as someone:
        await login(someone, other.username)
        assert (
            await someone.get(f"/appointments/{payment.appointment_id}/receipt")
        ).status_code == 404
        assert (await someone.get(f"/appointments/{uuid.uuid4()}/receipt")).status_code == 404
    async with client_for(app, other_clinic.host) as elsewhere:
        await login(elsewhere, other_clinic.admin.username)
        assert (await elsewhere.get(f"/admin/payments/{payment.id}/receipt")).status_code == 404
