"""A patient record kept by the front desk, claimed as a portal account.

The desk invites a record that has an email address; the patient follows a single-use link,
valid for 7 days, and chooses their own username and password (nobody at the clinic holds
them). Only the link token's SHA-256 is stored, made in the email job itself (never in a
job's payload or a log); the email goes through the clinic's email provider and the outbox,
so it is retried and in the ledger like any other.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ForeignKeyConstraint, Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core import outbox
from praxis.core.accounts import links
from praxis.core.accounts.fields import clean_password, clean_username
from praxis.core.accounts.models import User
from praxis.core.accounts.passwords import Passwords
from praxis.core.accounts.registration import USERNAME_TAKEN
from praxis.core.crypto import token_digest
from praxis.core.db import Base, Identified, utcnow
from praxis.core.errors import Conflict, InvalidInput
from praxis.core.outbox import Job, handles
from praxis.core.tenancy import TenantScoped
from praxis.tenants.directory import TenantInfo

TOPIC = "desk.claim_invitation"
VALID_FOR = timedelta(days=7)
RECORD_PREFIX = "~"  # a record, not an account: no username one can choose starts so
SPENT = "This link has expired or was already used. Ask the clinic to send you a new one."


class PatientClaim(TenantScoped, Identified, Base):
    """One invitation to claim a record; ``token_hash`` is empty until its email job ran."""

    __tablename__ = "patient_claims"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "token_hash"),
        Index(None, "tenant_id", "user_id"),
    )

    user_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64), default="")
    invited_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


def is_record(user: User) -> bool:
    return user.username.startswith(RECORD_PREFIX)


def invite(
    db: AsyncSession, tenant: TenantInfo, record: User, *, by: User, now: datetime
) -> PatientClaim:
    """Queue the email in the caller's transaction (it commits)."""
    if not is_record(record):
        raise Conflict("This patient already has a portal account.")
    if not record.email:
        raise InvalidInput(
            {"__all__": "Add an email address to the record first: the link is emailed."}
        )
    row = PatientClaim(
        id=uuid.uuid4(), user_id=record.id, invited_by=by.id, expires_at=now + VALID_FOR
    )
    db.add(row)
    outbox.enqueue(db, tenant.id, TOPIC, {"claim_id": str(row.id)})
    return row


@handles(TOPIC)
async def send_claim_link(job: Job) -> None:
    claim_id = uuid.UUID(job.payload["claim_id"])
    token = secrets.token_urlsafe(32)
    async with job.writing() as db:
        row = await db.get(PatientClaim, (job.tenant.id, claim_id), with_for_update=True)
        if row is None or not links.is_open(row, utcnow()):
            return
        user = await db.get(User, (job.tenant.id, row.user_id))
        if user is None or not user.is_active or not user.email or not is_record(user):
            return
        row.token_hash = token_digest(token)  # a retry makes a new link
        address, name, user_id = user.email, user.full_name, user.id
        await db.commit()  # the link must work before the email can arrive
    link = f"{job.site_url}/claim?token={token}"
    await links.email_link(
        job,
        subject_id=user_id,
        to=address,
        subject=f"Your account at {job.tenant.name}",
        opening=(
            f"Hello {name},\n\n{job.tenant.name} keeps your appointments. To see and manage "
            f"them online, choose a username and password with this link within "
            f"{VALID_FOR.days} days:"
        ),
        link=link,
    )


async def find(
    db: AsyncSession, token: str, *, now: datetime, lock: bool = False
) -> PatientClaim | None:
    """The open claim this link's token belongs to, or None (unknown, used or expired)."""
    found: PatientClaim | None = await links.find_open(db, PatientClaim, token, now=now, lock=lock)
    return found


async def accept(
    db: AsyncSession,
    token: str,
    *,
    username: str,
    password: str,
    confirm: str,
    passwords: Passwords,
    now: datetime,
) -> User:
    """Spend the link: the record becomes an account with the patient's own credentials."""
    row = await find(db, token, now=now, lock=True)
    user = await db.get(User, (row.tenant_id, row.user_id)) if row else None
    if row is None or user is None or not user.is_active or not is_record(user):
        raise InvalidInput({"token": SPENT}, SPENT)
    problems: dict[str, str] = {}
    cleaned = {}
    for name, check, value in (
        ("username", clean_username, username),
        ("password", clean_password, password),
    ):
        try:
            cleaned[name] = check(value)
        except ValueError as exc:
            problems[name] = str(exc)
    if not problems and confirm != password:
        problems["confirm"] = "The two passwords differ; type the same one twice."
    if problems:
        raise InvalidInput(problems)
    taken = await db.scalar(select(User.id).where(User.username == cleaned["username"]).limit(1))
    if taken is not None:
        raise InvalidInput({"username": USERNAME_TAKEN})
    user.username = cleaned["username"]
    user.password_hash = await asyncio.to_thread(passwords.hash, cleaned["password"])
    row.used_at = now
    await db.commit()
    return user
