"""The Professional who applied to a clinic is told by email when an admin approves or
declines the application (through the outbox, so a provider's hiccup only delays it)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import outbox
from praxis.core.accounts.models import Professional, User
from praxis.core.outbox import Job, handles
from praxis.core.providers.common import DataCategory
from praxis.tenants.directory import TenantInfo

TOPIC = "accounts.application_decided"


def tell_applicant(
    db: AsyncSession, tenant: TenantInfo, professional_id: uuid.UUID, *, approved: bool
) -> None:
    """Queue the email before the decision is made: it commits with the decision, or not."""
    if not tenant.providers.get("email"):
        return  # no email provider chosen: the admin tells them another way
    payload = {"professional_id": str(professional_id), "approved": approved}
    outbox.stage(db, [outbox.job_row(tenant.id, TOPIC, payload)])


def _text(tenant: TenantInfo, approved: bool, site_url: str) -> tuple[str, str]:
    if approved:
        return (
            f"Your application to {tenant.name} is approved",
            f"Hello,\n\n{tenant.name} has approved your application: you now appear on "
            f"its portal and patients can book you. Sign in at {site_url}/login to set your "
            "hours and consultations.\n",
        )
    return (
        f"Your application to {tenant.name}",
        f"Hello,\n\n{tenant.name} has declined your application to join its portal. "
        "If you think this is a mistake, please contact the clinic.\n",
    )


@handles(TOPIC)
async def send_decision(job: Job) -> None:
    professional_id = uuid.UUID(str(job.payload["professional_id"]))
    async with job.reading() as db:
        profile = await db.get(Professional, (job.tenant.id, professional_id))
        user = await db.get(User, (job.tenant.id, profile.user_id)) if profile else None
        if user is None or not user.email:
            return  # gone since: nobody to tell
        user_id, address = user.id, user.email
    subject, text = _text(job.tenant, bool(job.payload["approved"]), job.site_url)
    await job.providers.email.send(
        subject_id=user_id,
        to=address,
        subject=subject,
        text=text,
        about=(DataCategory.EMAIL,),  # the address only: the email names nobody
        idempotency_key=job.key,
        attempt=job.attempt,
    )
