"""Signing in: password, throttle and lockout, then the second factor for staff."""

from __future__ import annotations

import asyncio
import unicodedata
from typing import TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from praxis.core.accounts import alerts, operator_alerts, recovery, security_log
from praxis.core.accounts.mfa import Authenticator
from praxis.core.accounts.models import Operator, User
from praxis.core.accounts.passwords import Passwords
from praxis.core.accounts.security_log import SecurityEventKind as Security
from praxis.core.accounts.throttle import LoginThrottle
from praxis.core.db import utcnow
from praxis.core.errors import InvalidInput, ServiceError, TooManyAttempts

Account = TypeVar("Account", User, Operator)

WRONG_CREDENTIALS = "The username or password is incorrect."
WRONG_CODE = (
    "That code did not work. Enter the current 6-digit code from your app, or one of your "
    "recovery codes."
)
RESTART = "That set-up has expired. Start again."
SECOND_FACTOR_REALM = "second-factor"


class WrongCredentials(ServiceError):
    """The same words whether the username exists or not."""

    code = "wrong_credentials"
    status = 401

    def __init__(self) -> None:
        super().__init__(WRONG_CREDENTIALS)


def normalise_username(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower()


def too_many_attempts(wait: int, what: str = "failed sign-in attempts") -> TooManyAttempts:
    minutes = max(1, round(wait / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return TooManyAttempts(f"Too many {what}. Please try again in {minutes} {unit}.", wait)


async def sign_in(
    db: AsyncSession,
    model: type[Account],
    *,
    realm: str,
    username: str,
    password: str,
    client: str,
    passwords: Passwords,
    throttle: LoginThrottle,
    via: str = "portal",
    device: str | None = None,
) -> Account:
    """The account, if the password is right and the throttle allows the attempt. A clinic
    account's sign-ins, failures and lockouts go to the clinic's security log.

    ``device``: this browser's id if it holds this account's device cookie (see
    ``praxis.core.accounts.devices``): then its own counter stands in for the account's."""
    username = normalise_username(username)
    wait = await throttle.retry_after(realm, username, client, device)
    account = await db.scalar(select(model).where(model.username == username))
    if wait:
        await _log_refusal(db, model, account, Security.LOCKED_OUT, via)
        raise too_many_attempts(wait)
    await db.commit()  # release SQLite's write lock before the deliberately slow hash
    stored = account.password_hash if account is not None and account.is_active else None
    if not await asyncio.to_thread(passwords.verify, stored, password) or account is None:
        await throttle.failed(realm, username, client, device)
        await _log_refusal(db, model, account, Security.SIGN_IN_FAILED, via)
        raise WrongCredentials()
    await throttle.succeeded(realm, username, device)
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = await asyncio.to_thread(passwords.hash, password)
    if isinstance(account, User):
        security_log.note(db, Security.SIGNED_IN, account.id, via=via)  # the caller commits
    else:
        security_log.operator_event(Security.SIGNED_IN, account.id, via=via)
    return account


async def _log_refusal(
    db: AsyncSession,
    model: type[User] | type[Operator],
    account: User | Operator | None,
    kind: Security,
    via: str,
) -> None:
    """A refused attempt is logged and committed at once: the caller answers with an error
    and writes nothing more. Only the account's id: a username that matches none is not kept;
    the platform's operators are not in a clinic's log, but in the platform's."""
    if model is not User:
        security_log.operator_event(kind, account.id if account is not None else None, via=via)
        return
    security_log.note(db, kind, account.id if account is not None else None, via=via)
    await db.commit()


def needs_second_factor(account: User | Operator) -> bool:
    return account.totp_enabled_at is not None


async def check_second_factor(
    db: AsyncSession,
    account: User | Operator,
    code: str,
    authenticator: Authenticator,
    *,
    throttle: LoginThrottle | None = None,
    client: str = "",
) -> None:
    """Accept a code once: a wrong, old or already used one raises InvalidInput.

    With a throttle, wrong codes count against the account like wrong passwords, so a
    stolen password does not buy unlimited guesses at six digits.
    """
    realm = f"{SECOND_FACTOR_REALM}:{getattr(account, 'tenant_id', None) or 'platform'}"
    key = str(account.id)
    if throttle is not None:
        wait = await throttle.retry_after(realm, key, client)
        if wait:
            raise too_many_attempts(wait, "wrong codes")
    if recovery.looks_like(code):
        if await recovery.use(db, account, code):
            if throttle is not None:
                await throttle.succeeded(realm, key)
            _recovery_used(db, account)
            return
        step = None
    else:
        step = authenticator.accept(account.totp_secret, code, account.totp_last_step)
    if step is not None:
        # Claim the step in the database, so two requests racing with one code
        # cannot both pass (the copy in memory may be older than the row).
        model = type(account)
        claimed = await db.execute(
            update(model)
            .where(model.id == account.id)
            .where(or_(model.totp_last_step.is_(None), model.totp_last_step < step))
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            step = None
    if step is None:
        if throttle is not None:
            await throttle.failed(realm, key, client)
        if isinstance(account, User):
            security_log.note(db, Security.TWO_STEP_CODE_WRONG, account.id)
            await db.commit()  # the caller answers with an error and writes nothing more
        raise InvalidInput({"code": WRONG_CODE}, WRONG_CODE)
    if throttle is not None:
        await throttle.succeeded(realm, key)
    set_committed_value(account, "totp_last_step", step)


def _recovery_used(db: AsyncSession, account: User | Operator) -> None:
    """A recovery code stood in for the app: logged, and the person told (the caller commits)."""
    if isinstance(account, User):
        security_log.note(db, Security.RECOVERY_CODE_USED, account.id)
        alerts.tell(db, account.tenant_id, account, alerts.Change.RECOVERY_CODE_USED)
    else:
        operator_alerts.tell(db, account, alerts.Change.RECOVERY_CODE_USED)


def begin_enrolment(account: User | Operator, authenticator: Authenticator) -> tuple[str, str]:
    """A new secret for the person's app, and the token that carries it to the confirmation.

    Nothing is stored yet: the secret in use (if any) keeps working until a code from
    the new one is confirmed.
    """
    return authenticator.offer(account.id)


async def confirm_enrolment(
    db: AsyncSession,
    account: User | Operator,
    offer: str,
    code: str,
    authenticator: Authenticator,
) -> list[str]:
    """The first valid code proves the app holds the secret; then it is required.

    The first set-up also makes recovery codes, returned to be shown once; moving to a new
    device keeps the ones the person has (an empty list). Flushes; the caller commits (after
    ending the account's other sessions).
    """
    secret = authenticator.offered(account.id, offer)
    if secret is None:
        raise InvalidInput({"code": RESTART}, RESTART)
    step = authenticator.accept_secret(secret, code, None)
    if step is None:
        raise InvalidInput({"code": WRONG_CODE}, WRONG_CODE)
    replaced = account.totp_enabled_at is not None
    change = alerts.Change.TWO_STEP_REPLACED if replaced else alerts.Change.TWO_STEP_ENROLLED
    if isinstance(account, User):
        kind = Security.TWO_STEP_REPLACED if replaced else Security.TWO_STEP_ENROLLED
        security_log.note(db, kind, account.id)
        alerts.tell(db, account.tenant_id, account, change)
    else:
        operator_alerts.tell(db, account, change)
    account.totp_secret = authenticator.seal(secret)
    account.totp_enabled_at = utcnow()
    account.totp_last_step = step
    codes = [] if replaced and recovery.remaining(account) else recovery.make(account)
    await db.flush()
    return codes
