"""An invitation whose email failed (say, the clinic's email settings were not complete yet)
is sent once the operator asks for the clinic's failed jobs to be tried again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from praxis.core.accounts import invitations
from praxis.core.outbox.queue import JobStatus, OutboxJob
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.provider_fixtures import Providers
from tests.support import Clinic, login, make_operator, post_form


async def test_the_operator_tries_a_clinics_failed_jobs_again(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic, providers: Providers
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        await invitations.invite(
            db,
            clinic.tenant,
            email="new.admin@example.org",
            full_name="New Admin",
            role="clinic_admin",
            invited_by="the platform operator",
        )
        # As it stood when the settings were incomplete: failed for good.
        await db.execute(update(OutboxJob).values(status=JobStatus.DEAD.value, attempts=8))
        await db.commit()
    await make_operator(rt)
    page = f"/platform/tenants/{clinic.tenant.id}"
    async with client_for(app, "localhost") as operator:
        await login(operator, "ops", prefix="/platform")
        shown = await operator.get(page)
        assert "Try the failed jobs again" in shown.text
        tried = await post_form(operator, f"{page}/jobs/retry", {}, page=page)
        assert tried.status_code == 303
        assert "1 failed job will be tried again" in (await operator.get(page)).text
        elsewhere = f"/platform/tenants/{other_clinic.tenant.id}/jobs/retry"
        assert (await post_form(operator, elsewhere, {}, page=page)).status_code == 303
    assert await providers.run_jobs() >= 1
    assert [m["To"] for m in providers.mails()] == ["new.admin@example.org"]
    async with client_for(app, clinic.host) as admin:  # not a clinic's page
        await login(admin, clinic.admin.username)
        refused = await post_form(admin, f"{page}/jobs/retry", {}, page="/admin")
        assert refused.status_code == 404
