"""One-time recovery codes: a way into an account with two-step sign-in when the phone is lost.

Ten codes are made at once and shown once; only their SHA-256 digests are kept (a code has
80 random bits, so a fast digest is as safe as a slow hash of a password). Each works once,
at the two-step code step, instead of a code from the app. Making new codes replaces them all.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from praxis.core.accounts.models import Operator, User

COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper without doubt
_GROUPS, _GROUP = 4, 4  # xxxx-xxxx-xxxx-xxxx: 16 characters of 31, about 79 bits
_SHAPE = re.compile(rf"^[{_ALPHABET}]{{{_GROUPS * _GROUP}}}$")


def _normalise(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


def looks_like(code: str) -> bool:
    """Whether what was typed has the shape of a recovery code (not a 6-digit app code)."""
    return bool(_SHAPE.match(_normalise(code)))


def _digest(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_GROUPS * _GROUP))
    return "-".join(raw[i : i + _GROUP] for i in range(0, len(raw), _GROUP))


def remaining(account: User | Operator) -> int:
    return len(account.recovery_codes.split()) if account.recovery_codes else 0


def make(account: User | Operator) -> list[str]:
    """New codes for the account, replacing any it had; returned to be shown once.

    The caller commits."""
    codes = [_new_code() for _ in range(COUNT)]
    account.recovery_codes = " ".join(_digest(code) for code in codes)
    return codes


def forget(account: User | Operator) -> None:
    account.recovery_codes = None


async def use(db: AsyncSession, account: User | Operator, code: str) -> bool:
    """Spend the code if it is one of the account's: True once, False ever after.

    The list is swapped in the database only if it is still the one read, so two requests
    racing with one code cannot both pass."""
    if not looks_like(code) or not account.recovery_codes:
        return False
    wanted = _digest(code)
    kept = account.recovery_codes.split()
    matches = [d for d in kept if hmac.compare_digest(d, wanted)]
    if not matches:
        return False
    left = " ".join(d for d in kept if d != matches[0]) or None
    model = type(account)
    swapped = await db.execute(
        update(model)
        .where(model.id == account.id)
        .where(model.recovery_codes == account.recovery_codes)
        .values(recovery_codes=left)
        .execution_options(synchronize_session=False)
    )
    if swapped.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(account, "recovery_codes", left)
    return True
