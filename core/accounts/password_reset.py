"""Forgotten passwords: a single-use link by email, valid for an hour.

Asking never says whether an account exists (the answer is the same either way). The link's
token is random; only its SHA-256 is stored. The email goes through the clinic's email
provider via the outbox, so it is retried on failure and recorded in the ledger like any
other message. Setting a new password ends every session of the account.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import outbox
from praxis.core.accounts import alerts, security_log
from praxis.core.accounts.fields import clean_password
from praxis.core.accounts.links import find_open
from praxis.core.accounts.models import PasswordReset, User
from praxis.core.accounts.passwords import Passwords
from praxis.core.accounts.security_log import SecurityEventKind as Security
from praxis.core.accounts.sessions import UserSessions
from praxis.core.crypto import token_digest
from praxis.core.db import utcnow
from praxis.core.errors import InvalidInput
from praxis.core.outbox import Job, handles
from praxis.tenants.directory import TenantInfo

TOPIC = "accounts.password_reset"
VALID_FOR = timedelta(hours=1)
MOST_PER_HOUR = 3  # links sent per account per hour: enough for a typo, too few to spam
EXPIRED = "This link has expired or was already used. Ask for a new one."


async def ask(db: AsyncSession, tenant: TenantInfo, who: str) -> None:
    """Queue a link for the account with this username or email, if there is one."""
    who = who.strip()
    if not who or not tenant.providers.get("email"):
        return
    users = await db.scalars(
        select(User.id).where(
            User.is_active.is_(True),
            # a front-desk record ("~…", praxis.core.desk.patients) has no account to reset
            User.username.not_like("~%"),
            or_(User.username == who.lower(), func.lower(User.email) == who.lower()),
        )
    )
    for user_id in users:
        outbox.enqueue(db, tenant.id, TOPIC, {"user_id": str(user_id)})
        security_log.note(db, Security.PASSWORD_RESET_ASKED, user_id)


@handles(TOPIC)
async def send_link(job: Job) -> None:
    user_id = uuid.UUID(job.payload["user_id"])
    now = utcnow()
    token = secrets.token_urlsafe(32)
    async with job.writing() as db:
        # Locked: jobs run side by side, and two asks at once must not both pass the count.
        user = await db.get(User, (job.tenant.id, user_id), with_for_update=True)
        recent = await db.scalar(
            select(func.count()).where(
                PasswordReset.user_id == user_id, PasswordReset.created_at > now - VALID_FOR
            )
        )
        if user is None or not user.is_active or (recent or 0) >= MOST_PER_HOUR:
            return
        address = user.email
        # The link must work before the email can arrive: its row commits first.
        db.add(
            PasswordReset(
                user_id=user_id, token_hash=token_digest(token), expires_at=now + VALID_FOR
            )
        )
        await db.commit()
    link = f"{job.site_url}/password/reset?token={token}"
    text = email_text(job.tenant.name, link)
    await job.providers.email.send(
        subject_id=user_id,
        to=address,
        subject="Set a new password",
        text=text,
        about=(),
        idempotency_key=job.key,
        attempt=job.attempt,
    )


def new_password(password: str) -> str:
    """The new password, checked like every other (length, variety, not a common one)."""
    try:
        return clean_password(password)
    except ValueError as exc:
        raise InvalidInput({"password": str(exc)}) from None


def email_text(whose: str, link: str) -> str:
    return (
        f"Someone asked to set a new password for your {whose} account.\n\n"
        f"To choose a new password, open this link within the hour:\n{link}\n\n"
        "If it was not you, ignore this email: your password stays as it is.\n"
    )


async def check(db: AsyncSession, token: str) -> bool:
    return await find_open(db, PasswordReset, token, now=utcnow()) is not None


async def set_password(
    db: AsyncSession,
    token: str,
    password: str,
    *,
    passwords: Passwords,
    sessions: UserSessions,
) -> None:
    """Use the link: a new password, the link spent, every session of the account ended."""
    now = utcnow()
    row = await find_open(db, PasswordReset, token, now=now)
    if row is None:
        raise InvalidInput({"token": EXPIRED}, EXPIRED)
    clean = new_password(password)
    user = await db.get(User, (row.tenant_id, row.user_id))
    assert user is not None
    user.password_hash = passwords.hash(clean)
    row.used_at = now
    await sessions.end_all(db, user.id)
    security_log.note(db, Security.PASSWORD_RESET, user.id, at=now)
    alerts.tell(db, row.tenant_id, user, alerts.Change.PASSWORD_RESET)
    await db.commit()
