"""Forgotten passwords for platform operators: the clinic accounts' rules (``password_reset``)
with the platform's own mail, since an operator belongs to no clinic and so has no outbox.

The link is made in the asker's transaction and handed back; the page sends it once that has
committed, after the response has gone (the answer is the same, and as quick, whether or not
an operator matched). Two-step sign-in is still asked at the next sign-in: only the password
changes.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts import operator_alerts
from praxis.core.accounts.alerts import Change
from praxis.core.accounts.links import find_open
from praxis.core.accounts.models import Operator, OperatorPasswordReset
from praxis.core.accounts.password_reset import (
    EXPIRED,
    MOST_PER_HOUR,
    VALID_FOR,
    email_text,
    new_password,
)
from praxis.core.accounts.passwords import Passwords
from praxis.core.accounts.sessions import OperatorSessions
from praxis.core.crypto import token_digest
from praxis.core.db import utcnow
from praxis.core.errors import InvalidInput
from praxis.core.plugins.platform_mail import PlatformMail

log = structlog.get_logger("praxis.accounts")
PATH = "/platform/password/reset"


@dataclass(frozen=True)
class LinkToSend:
    """What the email needs; the token lives only here and in the email."""

    operator_id: uuid.UUID
    address: str
    token: str


async def ask(db: AsyncSession, who: str) -> LinkToSend | None:
    """A new link for the operator with this username or email, if there is one and they
    have not had too many this hour. The caller commits, then ``send``s."""
    who = who.strip().lower()
    if not who:
        return None
    # Locked: two asks at once must not both pass the count.
    operator = await db.scalar(
        select(Operator)
        .where(
            Operator.is_active.is_(True),
            or_(Operator.username == who, func.lower(Operator.email) == who),
        )
        .limit(1)
        .with_for_update()
    )
    if operator is None:
        return None
    now = utcnow()
    recent = await db.scalar(
        select(func.count()).where(
            OperatorPasswordReset.operator_id == operator.id,
            OperatorPasswordReset.created_at > now - VALID_FOR,
        )
    )
    if (recent or 0) >= MOST_PER_HOUR:
        return None
    token = secrets.token_urlsafe(32)
    db.add(
        OperatorPasswordReset(
            operator_id=operator.id, token_hash=token_digest(token), expires_at=now + VALID_FOR
        )
    )
    return LinkToSend(operator.id, operator.email, token)


async def send(mail: PlatformMail, site_url: str, link: LinkToSend) -> None:
    """Email the link; a failure is logged (the operator's id, never the address or token)."""
    text = email_text("Praxis platform operator", f"{site_url}{PATH}?token={link.token}")
    try:
        await mail.send(
            to=link.address, subject="Set a new password", text=text, key=str(uuid.uuid4())
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the asker was already answered: the log is all there is
        reason = getattr(exc, "reason", "") or type(exc).__name__
        log.error("operator_reset_link_not_sent", operator_id=str(link.operator_id), reason=reason)


async def check(db: AsyncSession, token: str) -> bool:
    return await find_open(db, OperatorPasswordReset, token, now=utcnow()) is not None


async def set_password(
    db: AsyncSession,
    token: str,
    password: str,
    *,
    passwords: Passwords,
    sessions: OperatorSessions,
) -> None:
    """Use the link: a new password, the link spent, every session ended, the operator told."""
    now = utcnow()
    row = await find_open(db, OperatorPasswordReset, token, now=now)
    if row is None:
        raise InvalidInput({"token": EXPIRED}, EXPIRED)
    clean = new_password(password)
    operator = await db.get(Operator, row.operator_id)
    assert operator is not None  # the link's row cascades away with the operator
    operator.password_hash = await asyncio.to_thread(passwords.hash, clean)
    row.used_at = now
    await sessions.end_all(db, operator.id)
    operator_alerts.tell(db, operator, Change.PASSWORD_RESET)
    await db.commit()
