"""Telling a person by email that their account's sign-in changed: a new password, two-step
sign-in set up or moved, recovery codes made or one used. If it was not them, they learn it
at once and can call the clinic; a takeover cannot go unnoticed.

The email goes through the clinic's email provider via the outbox (retried, and recorded in
the ledger like any message); it names what changed, never a secret.
"""

from __future__ import annotations

import enum
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import outbox
from praxis.core.accounts import recovery
from praxis.core.accounts.models import User
from praxis.core.outbox import Job, handles

TOPIC = "accounts.security_alert"


class Change(enum.StrEnum):
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a change, not a password)
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a change, not a password)
    TWO_STEP_ENROLLED = "two_step_enrolled"
    TWO_STEP_REPLACED = "two_step_replaced"
    RECOVERY_CODES_MADE = "recovery_codes_made"
    RECOVERY_CODE_USED = "recovery_code_used"
    PHONE_CHANGED = "phone_changed"  # sign-in codes and reminders may go to it


SUBJECTS = {
    Change.PASSWORD_CHANGED: "Your password was changed",
    Change.PASSWORD_RESET: "Your password was reset",
    Change.TWO_STEP_ENROLLED: "Two-step sign-in was turned on",
    Change.TWO_STEP_REPLACED: "Two-step sign-in was moved to a new device",
    Change.RECOVERY_CODES_MADE: "New recovery codes were made",
    Change.RECOVERY_CODE_USED: "A recovery code was used to sign in",
    Change.PHONE_CHANGED: "Your phone number was changed",
}

WHAT = {
    Change.PASSWORD_CHANGED: "The password of your {clinic} account was changed, and your "
    "other devices were signed out.",
    Change.PASSWORD_RESET: "The password of your {clinic} account was reset with an emailed "
    "link, and every device was signed out.",
    Change.TWO_STEP_ENROLLED: "Two-step sign-in was turned on for your {clinic} account: "
    "signing in now asks for a code from an authenticator app.",
    Change.TWO_STEP_REPLACED: "Two-step sign-in of your {clinic} account was moved to a new "
    "authenticator app; the old one no longer works.",
    Change.RECOVERY_CODES_MADE: "New recovery codes were made for your {clinic} account; the "
    "old ones no longer work.",
    Change.RECOVERY_CODE_USED: "A recovery code was used to sign in to your {clinic} account "
    "instead of a code from your app. {left}",
    Change.PHONE_CHANGED: "The phone number of your {clinic} account was changed: texts from "
    "the clinic now go to the new number.",
}


def tell(db: AsyncSession, tenant_id: uuid.UUID, user: User, change: Change) -> None:
    """Queue the email in the caller's transaction: sent exactly when the change commits."""
    outbox.enqueue(db, tenant_id, TOPIC, {"user_id": str(user.id), "change": change.value})


@handles(TOPIC)
async def send_alert(job: Job) -> None:
    if not job.tenant.providers.get("email"):
        return  # the clinic sends no email: the security log still has the event
    user_id = uuid.UUID(job.payload["user_id"])
    change = Change(job.payload["change"])
    async with job.reading() as db:
        user = await db.get(User, (job.tenant.id, user_id))
        if user is None or not user.is_active:
            return
        address, left = user.email, recovery.remaining(user)
    codes = f"{left} {'code is' if left == 1 else 'codes are'} left."
    contact = job.tenant.controller.dpo_contact
    text = (
        WHAT[change].format(clinic=job.tenant.name, left=codes)
        + "\n\nIf this was you, there is nothing to do. If it was not, contact the clinic at once"
        + (f": {contact}" if contact else ".")
        + "\n"
    )
    await job.providers.email.send(
        subject_id=user_id,
        to=address,
        subject=SUBJECTS[change],
        text=text,
        about=(),
        idempotency_key=job.key,
        attempt=job.attempt,
    )
