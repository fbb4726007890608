"""Asking for the password again before a change that could lock the owner out.

A stolen session (a borrowed laptop, a copied cookie) must not be enough to replace the
authenticator, make recovery codes or set a new password: each asks for the current password
first. Wrong passwords here count against the account like wrong sign-ins, so the session
buys no unlimited guesses, and each one goes to the clinic's security log.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts import security_log
from praxis.core.accounts.models import Operator, User
from praxis.core.accounts.passwords import Passwords
from praxis.core.accounts.security_log import SecurityEventKind as Security
from praxis.core.accounts.signin import too_many_attempts
from praxis.core.accounts.throttle import LoginThrottle
from praxis.core.errors import InvalidInput

FIELD = "current_password"
NEEDED = "Enter your current password to make this change."
WRONG = "That is not your current password. Enter the password you sign in with."


def _realm(account: User | Operator) -> str:
    return f"reauth:{getattr(account, 'tenant_id', None) or 'platform'}"


async def confirm(
    db: AsyncSession,
    account: User | Operator,
    password: str,
    *,
    passwords: Passwords,
    throttle: LoginThrottle,
    client: str,
) -> None:
    """Return if ``password`` is the account's; else raise InvalidInput on ``FIELD`` (or
    TooManyAttempts). A refusal is logged and committed: the caller writes nothing more."""
    realm, key = _realm(account), str(account.id)
    if not password:
        raise InvalidInput({FIELD: NEEDED}, NEEDED)
    wait = await throttle.retry_after(realm, key, client)
    if wait:
        raise too_many_attempts(wait, "wrong passwords")
    stored = account.password_hash
    await db.commit()  # release SQLite's write lock before the deliberately slow hash
    if not await asyncio.to_thread(passwords.verify, stored, password[:200]):
        await throttle.failed(realm, key, client)
        if isinstance(account, User):
            security_log.note(db, Security.REAUTH_FAILED, account.id)
            await db.commit()
        raise InvalidInput({FIELD: WRONG}, WRONG)
    await throttle.succeeded(realm, key)
