"""Changing the password while signed in: the current one first, then a new one that is not
common; the account's other sessions end, the clinic's security log records it, and the
person is told by email (so a change they did not make cannot go unnoticed)."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts import alerts, operator_alerts, reauth, security_log
from praxis.core.accounts.forms import PasswordChange
from praxis.core.accounts.models import Operator, User
from praxis.core.accounts.passwords import Passwords
from praxis.core.accounts.security_log import SecurityEventKind as Security
from praxis.core.accounts.sessions import OperatorSessions, UserSessions
from praxis.core.accounts.throttle import LoginThrottle
from praxis.core.errors import InvalidInput

SAME = "Choose a password different from your current one."


async def change(
    db: AsyncSession,
    account: User | Operator,
    form: PasswordChange,
    *,
    passwords: Passwords,
    throttle: LoginThrottle,
    client: str,
    sessions: UserSessions | OperatorSessions,
    keep: str | None,
) -> None:
    """Set the new password and end every session of the account but ``keep``. Commits."""
    await reauth.confirm(
        db, account, form.current_password, passwords=passwords, throttle=throttle, client=client
    )
    if form.new_password == form.current_password:
        raise InvalidInput({"new_password": SAME}, SAME)
    account.password_hash = await asyncio.to_thread(passwords.hash, form.new_password)
    await sessions.end_others(db, account.id, keep)
    if isinstance(account, User):
        security_log.note(db, Security.PASSWORD_CHANGED, account.id)
        alerts.tell(db, account.tenant_id, account, alerts.Change.PASSWORD_CHANGED)
    else:
        operator_alerts.tell(db, account, alerts.Change.PASSWORD_CHANGED)
    await db.commit()
