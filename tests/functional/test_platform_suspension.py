"""Suspending a clinic: its portal says it is temporarily unavailable (not a 404), sign-in
closes, nothing is deleted and the worker sends nothing for it; resuming restores all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from praxis.core import outbox, worker
from praxis.core.accounts import password_reset
from praxis.core.accounts.models import User
from praxis.core.booking.models import Appointment
from praxis.core.db import utcnow
from praxis.core.outbox import queue, runner
from praxis.core.outbox.queue import JobStatus, OutboxJob
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.provider_fixtures import Providers
from tests.support import PASSWORD, Clinic, login, make_operator, post_form


@pytest.fixture
async def operator(app: Any, rt: Runtime) -> Any:
    await make_operator(rt)
    async with client_for(app, "localhost") as http:
        await login(http, "ops", prefix="/platform")
        yield http


async def _set(operator: httpx.AsyncClient, clinic: Clinic, action: str) -> None:
    page = f"/platform/tenants/{clinic.tenant.id}"
    done = await post_form(operator, f"{page}/{action}", {}, page=page)
    assert done.status_code == 303 and done.headers["location"] == page


async def _counts(rt: Runtime, clinic: Clinic) -> tuple[int, int]:
    async with rt.database.reading(clinic.tenant.id) as db:
        users = await db.scalar(select(func.count()).select_from(User))
        bookings = await db.scalar(select(func.count()).select_from(Appointment))
        return int(users or 0), int(bookings or 0)


async def _jobs(rt: Runtime, clinic: Clinic) -> list[OutboxJob]:
    async with rt.database.reading(clinic.tenant.id) as db:
        return list(
            await db.scalars(select(OutboxJob).where(OutboxJob.topic == password_reset.TOPIC))
        )


async def test_a_suspended_clinic_is_unavailable_then_resumed(
    app: Any, rt: Runtime, operator: httpx.AsyncClient, clinic: Clinic, other_clinic: Clinic
) -> None:
    before = await _counts(rt, clinic)
    async with client_for(app, clinic.host) as signed_in:
        await login(signed_in, clinic.consumer.username)
        await _set(operator, clinic, "suspend")
        for path in ("/", "/login", "/professionals", "/appointments", "/api/v1/professionals"):
            answer = await signed_in.get(path)
            assert answer.status_code == 503, path
            assert "temporarily unavailable" in answer.text
        tried = await signed_in.post(
            "/login", data={"username": clinic.consumer.username, "password": PASSWORD}
        )
        assert tried.status_code == 503  # sign-in is closed
        page = await operator.get(f"/platform/tenants/{clinic.tenant.id}")
        assert "Resume this clinic" in page.text
        async with client_for(app, other_clinic.host) as neighbour:
            assert (await neighbour.get("/")).status_code == 200  # only that clinic
        assert await _counts(rt, clinic) == before  # nothing is deleted
        await _set(operator, clinic, "resume")
        assert (await signed_in.get("/appointments")).status_code == 200  # the session stayed
    assert await _counts(rt, clinic) == before


async def test_the_worker_sends_nothing_for_a_suspended_clinic_until_it_resumes(
    app: Any, rt: Runtime, operator: httpx.AsyncClient, clinic: Clinic, providers: Providers
) -> None:
    await _set(operator, clinic, "suspend")
    async with rt.database.writing(clinic.tenant.id) as db:
        await password_reset.ask(db, clinic.tenant, clinic.consumer.username)
        await db.commit()
    await worker.run_once(rt)
    (job,) = await _jobs(rt, clinic)
    assert job.status == JobStatus.PENDING.value and job.attempts == 0
    assert providers.mails() == []
    await _set(operator, clinic, "resume")
    await worker.run_once(rt)
    (job,) = await _jobs(rt, clinic)
    assert job.status == JobStatus.DONE.value
    assert [m["To"] for m in providers.mails()] == [f"{clinic.consumer.username}@example.org"]


async def test_held_jobs_stay_held_at_every_worker_pass(
    rt: Runtime, operator: httpx.AsyncClient, clinic: Clinic, providers: Providers
) -> None:
    await _set(operator, clinic, "suspend")
    async with rt.database.writing(clinic.tenant.id) as db:
        await password_reset.ask(db, clinic.tenant, clinic.consumer.username)
        await db.commit()
    for _ in range(3):
        await worker.run_once(rt)
    assert await outbox.drain(rt.jobs) == 0  # nothing due: held, not failed
    (job,) = await _jobs(rt, clinic)
    assert job.status == JobStatus.PENDING.value


async def test_a_job_claimed_just_before_the_clinic_was_suspended_is_held_not_failed(
    rt: Runtime, operator: httpx.AsyncClient, clinic: Clinic, providers: Providers
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        await password_reset.ask(db, clinic.tenant, clinic.consumer.username)
        await db.commit()
    async with rt.database.writing() as db:  # the worker claims it...
        claimed = await queue.claim(db, now=utcnow(), limit=10, policy=rt.jobs.retry_policy)
    assert [job.topic for job in claimed] == [password_reset.TOPIC]
    await _set(operator, clinic, "suspend")  # ...and the operator suspends the clinic
    await runner.run_one(rt.jobs, claimed[0])
    (job,) = await _jobs(rt, clinic)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.PENDING.value, 0, "")
    assert job.run_after > utcnow() + timedelta(minutes=4)  # waits with the clinic's others
    assert providers.mails() == []
    await _set(operator, clinic, "resume")
    await worker.run_once(rt)
    (job,) = await _jobs(rt, clinic)
    assert (job.status, job.attempts) == (JobStatus.DONE.value, 1)
    assert [m["To"] for m in providers.mails()] == [f"{clinic.consumer.username}@example.org"]


async def test_only_an_operator_suspends_a_clinic(app: Any, rt: Runtime, clinic: Clinic) -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        page = f"/platform/tenants/{clinic.tenant.id}/suspend"
        assert (await admin.post(page, data={})).status_code in (400, 404)
    async with client_for(app, "localhost") as anonymous:
        answer = await anonymous.post(f"/platform/tenants/{clinic.tenant.id}/suspend")
        assert answer.status_code in (303, 400)
    async with client_for(app, clinic.host) as visitor:
        assert (await visitor.get("/")).status_code == 200


async def test_suspending_an_unknown_clinic_is_not_found(
    operator: httpx.AsyncClient, clinic: Clinic
) -> None:
    page = f"/platform/tenants/{clinic.tenant.id}"
    missing = "/platform/tenants/00000000-0000-4000-8000-000000000000/suspend"
    assert (await post_form(operator, missing, {}, page=page)).status_code == 404
