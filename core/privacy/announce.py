"""A new version of the notice, emailed to the clinic's consumers (P14): publishing stages one
job that fans out, in its own transaction, one email job per consumer; each reads the person
when it runs, so an address changed or an account closed in the meantime counts."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import outbox
from praxis.core.accounts.models import Role, User
from praxis.core.outbox import Job, handles
from praxis.core.privacy import notices
from praxis.tenants.directory import TenantInfo

ANNOUNCE_TOPIC = "privacy.notice_announce"
EMAIL_TOPIC = "privacy.notice_email"
BATCH = 500


def stage_announcement(db: AsyncSession, tenant: TenantInfo, version: int) -> bool:
    """Queue the emails about ``version`` with the caller's transaction; False when the
    clinic sends no email (the portal's banner still tells everyone who signs in)."""
    if not tenant.providers.get("email"):
        return False
    outbox.stage(db, [outbox.job_row(tenant.id, ANNOUNCE_TOPIC, {"version": version})])
    return True


async def receives_service_email(db: AsyncSession, user: User) -> bool:
    """Whether service messages by email reach this person: every active consumer with an
    address (the consents of P35 narrow this where a person said no)."""
    return user.is_active and bool(user.email) and user.role == Role.CONSUMER.value


def _email_jobs(tenant_id: uuid.UUID, version: int, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    return [
        outbox.job_row(tenant_id, EMAIL_TOPIC, {"version": version, "user_id": str(user_id)})
        for user_id in ids
    ]


@handles(ANNOUNCE_TOPIC)
async def fan_out(job: Job) -> None:
    """One email job per consumer, written with this job's completion: run twice, it adds
    nothing twice."""
    version = int(job.payload["version"])
    async with job.writing() as db:
        query = (
            select(User.id)
            .where(User.role == Role.CONSUMER.value, User.is_active.is_(True))
            .order_by(User.id)
        )
        ids = list((await db.scalars(query)).all())
        for start in range(0, len(ids), BATCH):
            outbox.stage(db, _email_jobs(job.tenant.id, version, ids[start : start + BATCH]))
        await job.done(db)
        await db.commit()


@handles(EMAIL_TOPIC)
async def send_notice_email(job: Job) -> None:
    version = int(job.payload["version"])
    user_id = uuid.UUID(str(job.payload["user_id"]))
    async with job.reading() as db:
        user = await db.get(User, (job.tenant.id, user_id))
        if user is None or not await receives_service_email(db, user):
            return
        notice = await notices.version(db, version)
        address = user.email
        takes_effect = notice.effective_at
    assert takes_effect is not None
    day = takes_effect.astimezone(job.tenant.zone).date().isoformat()
    link = f"{job.site_url}/privacy/versions/{version}"
    text = (
        f"{job.tenant.name} has published a new version of its privacy notice "
        f"(version {version}, in force from {day}).\n\n"
        f"Read it, and what changed, here:\n{link}\n\n"
        "You need do nothing; next time you sign in we will ask you to confirm you have "
        f"read it. Questions about your data: {job.tenant.controller.dpo_contact}.\n"
    )
    await job.providers.email.send(
        subject_id=user_id,
        to=address,
        subject=f"{job.tenant.name} has updated its privacy notice",
        text=text,
        about=(),
        idempotency_key=job.key,
        attempt=job.attempt,
        reply_to=job.tenant.controller.dpo_contact,
    )
