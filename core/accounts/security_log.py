"""The clinic's security log: sign-ins and failed ones, lockouts, two-step sign-in set up or
replaced, recovery codes made or used, passwords changed or reset, a wrong password when
confirming a change, signing out everywhere. Clinic admins read it on /admin/security.

An event names the account by id (never the username someone typed, which may be a stranger's
address or a password typed in the wrong box) and keeps no address, device or IP. It is kept
for ``KEEP_MONTHS``; the daily retention run deletes older events.

Platform operators belong to no clinic, so no clinic's log holds their events: their sign-ins
go to the platform's own log (``operator_event``), as a line of the same kinds, by id only.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.accounts.models import User
from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped

KEEP_MONTHS = 12
SHOWN = 200
platform_log = structlog.get_logger("praxis.security")


class SecurityEventKind(enum.StrEnum):
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED_OUT = "locked_out"  # the throttle refused an attempt
    TWO_STEP_CODE_WRONG = "two_step_code_wrong"
    TWO_STEP_ENROLLED = "two_step_enrolled"
    TWO_STEP_REPLACED = "two_step_replaced"
    PASSWORD_RESET_ASKED = "password_reset_asked"  # noqa: S105 (an event, not a password)
    PASSWORD_RESET = "password_reset"  # noqa: S105 (an event, not a password)
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (an event, not a password)
    RECOVERY_CODES_MADE = "recovery_codes_made"
    RECOVERY_CODE_USED = "recovery_code_used"
    REAUTH_FAILED = "reauth_failed"  # a wrong password when confirming a change


WORDS = {
    SecurityEventKind.SIGNED_IN: "Signed in",
    SecurityEventKind.SIGN_IN_FAILED: "Sign-in failed (wrong password)",
    SecurityEventKind.LOCKED_OUT: "Sign-in refused: too many failed attempts",
    SecurityEventKind.TWO_STEP_CODE_WRONG: "Wrong two-step code",
    SecurityEventKind.TWO_STEP_ENROLLED: "Two-step sign-in set up",
    SecurityEventKind.TWO_STEP_REPLACED: "Two-step sign-in moved to a new app",
    SecurityEventKind.PASSWORD_RESET_ASKED: "Password reset link asked for",
    SecurityEventKind.PASSWORD_RESET: "Password reset with the emailed link",
    SecurityEventKind.SIGNED_OUT_EVERYWHERE: "Signed out on every device",
    SecurityEventKind.PASSWORD_CHANGED: "Password changed (other devices signed out)",
    SecurityEventKind.RECOVERY_CODES_MADE: "Recovery codes made (old ones stop working)",
    SecurityEventKind.RECOVERY_CODE_USED: "Signed in with a recovery code",
    SecurityEventKind.REAUTH_FAILED: "Wrong password when confirming a change",
}


class SecurityEvent(TenantScoped, Identified, Base):
    __tablename__ = "security_events"
    __table_args__ = (
        Index(None, "tenant_id", "at"),
        Index(None, "tenant_id", "user_id", "at"),
    )

    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # None: no such account
    at: Mapped[datetime] = mapped_column(default=utcnow)
    via: Mapped[str] = mapped_column(String(16), default="")  # portal | api


def note(
    db: AsyncSession,
    kind: SecurityEventKind,
    user_id: uuid.UUID | None,
    *,
    via: str = "",
    at: datetime | None = None,
) -> None:
    """Add the event to the caller's transaction (the session's clinic is the event's)."""
    db.add(SecurityEvent(kind=kind.value, user_id=user_id, via=via, at=at or utcnow()))


def operator_event(
    kind: SecurityEventKind, operator_id: uuid.UUID | None, *, via: str = ""
) -> None:
    """An operator's event, in the platform's log (``None``: no operator has that username)."""
    platform_log.info(
        "operator_security_event",
        kind=kind.value,
        operator_id=str(operator_id) if operator_id else None,
        via=via,
    )


@dataclass(frozen=True)
class Shown:
    at: datetime
    words: str
    user_id: uuid.UUID | None
    via: str


async def recent(
    db: AsyncSession, *, user_id: uuid.UUID | None = None, limit: int = SHOWN
) -> list[Shown]:
    """The newest events first, of one account if ``user_id``."""
    query = select(SecurityEvent).order_by(SecurityEvent.at.desc()).limit(limit)
    if user_id is not None:
        query = query.where(SecurityEvent.user_id == user_id)
    return [
        Shown(e.at, WORDS.get(SecurityEventKind(e.kind), e.kind), e.user_id, e.via)
        for e in await db.scalars(query)
    ]


async def account_id(db: AsyncSession, username: str) -> uuid.UUID | None:
    """The id of this clinic's account with that username (any role), for the log's filter."""
    found: uuid.UUID | None = await db.scalar(
        select(User.id).where(User.username == username.strip().lower())
    )
    return found


async def purge(db: AsyncSession, now: datetime, *, dry_run: bool = False) -> int:
    """Events older than ``KEEP_MONTHS`` go (the caller commits). Returns how many."""
    cutoff = now - timedelta(days=KEEP_MONTHS * 31)
    old = select(func.count()).select_from(SecurityEvent).where(SecurityEvent.at < cutoff)
    found = int(await db.scalar(old) or 0)
    if found and not dry_run:
        await db.execute(delete(SecurityEvent).where(SecurityEvent.at < cutoff))
    return found
