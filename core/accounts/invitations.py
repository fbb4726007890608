"""Staff invitations: a single-use, expiring link emailed to a new member of a clinic's staff.

Whoever invites (an operator onboarding a clinic, later a clinic admin) never holds the
invitee's first credentials: following the link, the invitee chooses their own username and
password, and where staff must use two-step sign-in, sets up their own authenticator in the
same step. Only the SHA-256 of the link's token is stored, and the token is made in the email
job itself (never in the outbox's payload, never logged); the email goes through the clinic's
email provider via the outbox, so it is retried and recorded in the ledger like any other.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core import outbox
from praxis.core.accounts import links, staff_log
from praxis.core.accounts.fields import clean_email, clean_line, clean_password, clean_username
from praxis.core.accounts.mfa import Authenticator
from praxis.core.accounts.models import (
    STAFF_ROLES,
    Professional,
    ProfessionalStatus,
    Role,
    User,
    UserSession,
)
from praxis.core.accounts.passwords import Passwords
from praxis.core.accounts.registration import USERNAME_TAKEN
from praxis.core.crypto import token_digest
from praxis.core.db import Base, Identified, utcnow
from praxis.core.errors import InvalidInput
from praxis.core.outbox import Job, handles
from praxis.core.tenancy import TenantScoped
from praxis.tenants.directory import TenantInfo

TOPIC = "accounts.staff_invitation"
VALID_FOR = timedelta(days=7)
ROLES = {
    Role.CLINIC_ADMIN.value: "clinic admin",
    Role.PROFESSIONAL.value: "Professional",
    Role.FRONT_DESK.value: "front desk",
}
SPENT = (
    "This invitation link has expired or was already used. Ask whoever invited you for a new one."
)


class StaffInvitation(TenantScoped, Identified, Base):
    """One invitation; ``token_hash`` is empty until its email job made the link."""

    __tablename__ = "staff_invitations"
    __table_args__ = (
        Index(None, "tenant_id", "token_hash"),
        Index(None, "tenant_id", "email"),
    )

    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), default="")
    invited_by: Mapped[str] = mapped_column(String(100))  # "operator:<id>" or "user:<id>"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # the account it made


@dataclass(frozen=True)
class Acceptance:
    """What the invitee chooses; ``offer`` and ``code`` only where two-step sign-in is due."""

    username: str
    password: str
    confirm: str
    offer: str = ""
    code: str = ""


def _checked(checks: dict[str, tuple[object, str]]) -> dict[str, str]:
    """Run each field's cleaner; raise InvalidInput naming every field that failed."""
    cleaned: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name, (check, value) in checks.items():
        try:
            cleaned[name] = check(value)  # type: ignore[operator]
        except ValueError as exc:
            problems[name] = str(exc)
    if problems:
        raise InvalidInput(problems)
    return cleaned


async def invite(
    db: AsyncSession,
    tenant: TenantInfo,
    *,
    email: str,
    full_name: str,
    role: str,
    invited_by: str,
    now: datetime | None = None,
) -> StaffInvitation:
    """Queue an invitation in the caller's transaction (it commits); bad input: InvalidInput."""
    cleaned = _checked({"email": (clean_email, email), "full_name": (clean_line, full_name)})
    problems = {}
    if not cleaned["full_name"] or len(cleaned["full_name"]) > 200:
        problems["full_name"] = "Enter the person's full name (at most 200 characters)."
    if role not in ROLES:
        problems["role"] = "Choose clinic admin, Professional or front desk."
    now = now or utcnow()
    in_use = await _address_in_use(db, cleaned["email"])
    if in_use:
        problems["email"] = in_use
    if problems:
        raise InvalidInput(problems)
    row = queue(
        db,
        tenant,
        email=cleaned["email"],
        full_name=cleaned["full_name"],
        role=role,
        invited_by=invited_by,
        now=now,
    )
    await staff_log.record(
        db,
        staff_log.INVITED,
        by=staff_log.actor(invited_by),
        invitation=row.id,
        reason=f"as {ROLES[role]}",
        now=now,
    )
    return row


async def _address_in_use(db: AsyncSession, email: str) -> str:
    """Why this address cannot be invited as someone new (empty: it can)."""
    same = func.lower(User.email) == email.lower()
    staff = [r.value for r in STAFF_ROLES]
    holder = await db.scalar(select(User).where(same, User.role.in_(staff)).limit(1))
    if holder is not None and holder.is_active:
        return f"{holder.full_name} already works here with this address."
    if holder is not None:
        return (
            f"This address is {holder.full_name}'s, who was removed: invite them back from "
            "their page, so they keep their history."
        )
    waiting = select(StaffInvitation.id).where(
        func.lower(StaffInvitation.email) == email.lower(), StaffInvitation.used_at.is_(None)
    )
    if await db.scalar(waiting.limit(1)) is not None:
        return "An invitation to this address is waiting: send it again from the list below."
    return ""


def queue(
    db: AsyncSession,
    tenant: TenantInfo,
    *,
    email: str,
    full_name: str,
    role: str,
    invited_by: str,
    now: datetime,
    user_id: uuid.UUID | None = None,
) -> StaffInvitation:
    """A new invitation and its email job, in the caller's transaction; ``user_id``: the
    removed account it invites back (kept, with its username and history)."""
    row = StaffInvitation(
        id=uuid.uuid4(),
        email=email,
        full_name=full_name,
        role=role,
        invited_by=invited_by[:100],
        created_at=now,
        expires_at=now + VALID_FOR,
        user_id=user_id,
    )
    db.add(row)
    outbox.enqueue(db, tenant.id, TOPIC, {"invitation_id": str(row.id)})
    return row


@handles(TOPIC)
async def send_invitation(job: Job) -> None:
    invitation_id = uuid.UUID(job.payload["invitation_id"])
    token = secrets.token_urlsafe(32)
    async with job.writing() as db:
        row = await db.get(StaffInvitation, (job.tenant.id, invitation_id), with_for_update=True)
        if row is None or not links.is_open(row, utcnow()):
            return
        # A retry makes a new link: one that may never have arrived stops working.
        row.token_hash = token_digest(token)
        address, name, role = row.email, row.full_name, ROLES[row.role]
        subject = row.user_id  # invited back: the email is about their account
        back = subject is not None
        await db.commit()  # the link must work before the email can arrive
    link = f"{job.site_url}/invitation?token={token}"
    if back:
        invited = f"You are invited back to {job.tenant.name} on Praxis."
        step = "To choose a new password (your old one no longer works)"
    else:
        invited = f"You are invited to join {job.tenant.name} on Praxis as {role}."
        step = "To choose your username and password"
    days = VALID_FOR.days
    await links.email_link(
        job,
        subject_id=subject,
        to=address,
        subject=f"You are invited {'back ' if back else ''}to {job.tenant.name}",
        opening=f"Hello {name},\n\n{invited}\n\n{step}, open this link within {days} days:",
        link=link,
    )


async def find(
    db: AsyncSession, token: str, *, now: datetime | None = None, lock: bool = False
) -> StaffInvitation | None:
    """The open invitation this link's token belongs to, or None (unknown, used or expired)."""
    found: StaffInvitation | None = await links.find_open(
        db, StaffInvitation, token, now=now or utcnow(), lock=lock
    )
    return found


async def accept(
    db: AsyncSession,
    token: str,
    answer: Acceptance,
    *,
    passwords: Passwords,
    authenticator: Authenticator,
    two_step: bool,
    now: datetime | None = None,
) -> User:
    """Spend the link: the account is made (or, invited back, reopened) with the invitee's own
    new password and authenticator; nothing of the old credentials works again."""
    now = now or utcnow()
    row = await find(db, token, now=now, lock=True)  # two tabs at once: one account
    if row is None:
        raise InvalidInput({"token": SPENT}, SPENT)
    returning = await returning_account(db, row, lock=True)
    checks: dict[str, tuple[object, str]] = {"password": (clean_password, answer.password)}
    if returning is None:  # someone invited back keeps their username
        checks = {"username": (clean_username, answer.username), **checks}
    cleaned = _checked(checks)
    if answer.confirm != answer.password:
        raise InvalidInput({"confirm": "The two passwords differ; type the same one twice."})
    if returning is None:
        taken = select(User.id).where(User.username == cleaned["username"]).limit(1)
        if await db.scalar(taken) is not None:
            raise InvalidInput({"username": USERNAME_TAKEN})
    secret, step = _new_authenticator(row, answer, authenticator, two_step)
    password_hash = await asyncio.to_thread(passwords.hash, cleaned["password"])
    if returning is None:
        user = await _new_account(db, row, cleaned["username"], password_hash)
    else:
        user = await _reopened(db, returning, password_hash)
    user.totp_secret = authenticator.seal(secret) if secret is not None else None
    user.totp_enabled_at = now if secret is not None else None
    user.totp_last_step = step
    row.used_at, row.user_id = now, user.id
    row.email = row.full_name = ""  # the account holds them now: the spent link needs neither
    await db.commit()
    return user


async def returning_account(
    db: AsyncSession, row: StaffInvitation, *, lock: bool = False
) -> User | None:
    """The removed account an invitation invites back (None: a new colleague). Refused as a
    spent link if that account is gone or already back."""
    if row.user_id is None or row.used_at is not None:
        return None
    query = select(User).where(User.id == row.user_id)
    account = await db.scalar(query.with_for_update() if lock else query)
    if account is None or account.is_active:
        raise InvalidInput({"token": SPENT}, SPENT)
    return account


def _new_authenticator(
    row: StaffInvitation, answer: Acceptance, authenticator: Authenticator, two_step: bool
) -> tuple[str | None, int | None]:
    """The secret offered on the page and the step its confirming code used; none needed: None."""
    if not two_step:
        return None, None
    secret = authenticator.offered(row.id, answer.offer)
    step = (
        authenticator.accept_secret(secret, answer.code.replace(" ", ""), None) if secret else None
    )
    if secret is None or step is None:
        raise InvalidInput({"code": "Enter the 6-digit code your authenticator app shows now."})
    return secret, step


async def _new_account(
    db: AsyncSession, row: StaffInvitation, username: str, password_hash: str
) -> User:
    user = User(
        id=uuid.uuid4(),
        username=username,
        role=row.role,
        full_name=row.full_name,
        email=row.email,
        phone="",
        address_line1="",
        town="",
        postcode="",
        password_hash=password_hash,
    )
    db.add(user)
    await db.flush()  # the profile's key refers to the account
    if row.role == Role.PROFESSIONAL.value:  # listed once a clinic admin approves the profile
        db.add(
            Professional(
                user_id=user.id,
                display_name=row.full_name,
                qualifications="",
                field_of_practice="",
                status=ProfessionalStatus.PENDING.value,
            )
        )
    return user


async def _reopened(db: AsyncSession, account: User, password_hash: str) -> User:
    """The removed account active again, with its roles and history; only the new password
    and authenticator open it (old recovery codes and any leftover session are gone). A
    Professional is listed again once an admin approves the profile (removal unlisted it)."""
    account.password_hash = password_hash
    account.recovery_codes = None
    account.is_active = True
    await db.execute(delete(UserSession).where(UserSession.user_id == account.id))
    return account


async def open_invitations(db: AsyncSession, *, now: datetime | None = None) -> int:
    """How many invitations of the session's clinic still wait to be used."""
    count = await db.scalar(
        select(func.count()).where(
            StaffInvitation.used_at.is_(None), StaffInvitation.expires_at > (now or utcnow())
        )
    )
    return int(count or 0)
