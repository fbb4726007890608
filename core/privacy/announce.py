"""Telling consumers by email (P14): a new version of the notice, and the service
announcements clinic admins write (a change to opening hours, a new way to book). Each stages
one job that fans out, in its own transaction, one email job per consumer; each reads the
person when it runs, so an address changed or an account closed in the meantime counts."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import outbox
from praxis.core.accounts.fields import Line, Text
from praxis.core.accounts.models import Role, User
from praxis.core.consents import services as consents
from praxis.core.consents.kinds import SERVICE_EMAIL
from praxis.core.outbox import Job, handles
from praxis.core.privacy import notices
from praxis.tenants.directory import TenantInfo

ANNOUNCE_TOPIC = "privacy.notice_announce"
EMAIL_TOPIC = "privacy.notice_email"
SERVICE_TOPIC = "privacy.announcement"
SERVICE_EMAIL_TOPIC = "privacy.announcement_email"
BATCH = 500


def stage_announcement(db: AsyncSession, tenant: TenantInfo, version: int) -> bool:
    """Queue the emails about ``version`` with the caller's transaction; False when the
    clinic sends no email (the portal's banner still tells everyone who signs in)."""
    if not tenant.providers.get("email"):
        return False
    outbox.stage(db, [outbox.job_row(tenant.id, ANNOUNCE_TOPIC, {"version": version})])
    return True


async def receives_service_email(db: AsyncSession, user: User) -> bool:
    """Whether service messages by email reach this person: an active consumer with an
    address who has not withdrawn service emails (P35)."""
    if not (user.is_active and user.email and user.role == Role.CONSUMER.value):
        return False
    return await consents.allows(db, SERVICE_EMAIL, consents.Whose(user.id))


_CONSUMERS = select(User.id).where(User.role == Role.CONSUMER.value, User.is_active.is_(True))


async def audience(db: AsyncSession) -> int:
    """How many consumers an announcement would reach."""
    count = select(func.count()).select_from(_CONSUMERS.subquery())
    return int(await db.scalar(count) or 0)


async def _fan_out(job: Job, topic: str, payload: dict[str, Any]) -> None:
    """One email job per consumer, written with this job's completion: run twice, it adds
    nothing twice."""
    async with job.writing() as db:
        ids = list((await db.scalars(_CONSUMERS.order_by(User.id))).all())
        for start in range(0, len(ids), BATCH):
            outbox.stage(
                db,
                [
                    outbox.job_row(job.tenant.id, topic, {**payload, "user_id": str(user_id)})
                    for user_id in ids[start : start + BATCH]
                ],
            )
        await job.done(db)
        await db.commit()


@handles(ANNOUNCE_TOPIC)
async def fan_out(job: Job) -> None:
    await _fan_out(job, EMAIL_TOPIC, {"version": int(job.payload["version"])})


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


# --- service announcements --------------------------------------------------------------------


class Announcement(BaseModel):
    """What a clinic admin writes to every consumer: the clinic's own words, no one's data."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    subject: Line = Field(min_length=3, max_length=150)
    message: Text = Field(min_length=10, max_length=5000)


def stage_service_announcement(db: AsyncSession, tenant: TenantInfo, form: Announcement) -> None:
    """Queue the announcement with the caller's transaction (the caller checked the clinic
    sends email)."""
    payload = {"subject": form.subject, "message": form.message}
    outbox.stage(db, [outbox.job_row(tenant.id, SERVICE_TOPIC, payload)])


@handles(SERVICE_TOPIC)
async def fan_out_announcement(job: Job) -> None:
    payload = {"subject": str(job.payload["subject"]), "message": str(job.payload["message"])}
    await _fan_out(job, SERVICE_EMAIL_TOPIC, payload)


def announcement_text(tenant: TenantInfo, message: str, site_url: str) -> str:
    return (
        f"{message}\n\n"
        f"{tenant.name}\n{site_url}\n\n"
        "You receive this because you have an account with us: it is about our service, not "
        f"marketing. How we use your data: {site_url}/privacy\n"
    )


@handles(SERVICE_EMAIL_TOPIC)
async def send_announcement_email(job: Job) -> None:
    user_id = uuid.UUID(str(job.payload["user_id"]))
    async with job.reading() as db:
        user = await db.get(User, (job.tenant.id, user_id))
        if user is None or not await receives_service_email(db, user):
            return
        address = user.email
    await job.providers.email.send(
        subject_id=user_id,
        to=address,
        subject=str(job.payload["subject"]),
        text=announcement_text(job.tenant, str(job.payload["message"]), job.site_url),
        about=(),
        idempotency_key=job.key,
        attempt=job.attempt,
        reply_to=job.tenant.controller.dpo_contact,
    )
