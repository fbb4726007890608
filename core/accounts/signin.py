"""Signing in: password, throttle and lockout, then the second factor for staff."""

from __future__ import annotations

import asyncio
import unicodedata
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.mfa import Authenticator
from core.accounts.models import Operator, User
from core.accounts.passwords import Passwords
from core.accounts.throttle import LoginThrottle
from core.db import utcnow
from core.errors import InvalidInput, ServiceError, TooManyAttempts

Account = TypeVar("Account", User, Operator)

WRONG_CREDENTIALS = "The username or password is incorrect."
WRONG_CODE = "That code did not work. Enter the current 6-digit code from your app."


class WrongCredentials(ServiceError):
    """The same words whether the username exists or not."""

    code = "wrong_credentials"
    status = 401

    def __init__(self) -> None:
        super().__init__(WRONG_CREDENTIALS)


def normalise_username(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower()


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
) -> Account:
    """The account, if the password is right and the throttle allows the attempt."""
    username = normalise_username(username)
    wait = await throttle.retry_after(realm, username, client)
    if wait:
        minutes = max(1, round(wait / 60))
        unit = "minute" if minutes == 1 else "minutes"
        raise TooManyAttempts(
            f"Too many failed sign-in attempts. Please try again in {minutes} {unit}.", wait
        )
    account = await db.scalar(select(model).where(model.username == username))
    await db.commit()  # release SQLite's write lock before the deliberately slow hash
    stored = account.password_hash if account is not None and account.is_active else None
    if not await asyncio.to_thread(passwords.verify, stored, password) or account is None:
        await throttle.failed(realm, username, client)
        raise WrongCredentials()
    await throttle.succeeded(realm, username)
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = await asyncio.to_thread(passwords.hash, password)
    return account


def needs_second_factor(account: User | Operator) -> bool:
    return account.totp_enabled_at is not None


async def check_second_factor(
    db: AsyncSession, account: User | Operator, code: str, authenticator: Authenticator
) -> None:
    step = authenticator.accept(account.totp_secret, code, account.totp_last_step)
    if step is None:
        raise InvalidInput({"code": WRONG_CODE}, WRONG_CODE)
    account.totp_last_step = step
    await db.flush()


async def begin_enrolment(
    db: AsyncSession, account: User | Operator, authenticator: Authenticator
) -> str:
    """Store a new (not yet active) secret and return it for the person's app."""
    secret, sealed = authenticator.new_secret()
    account.totp_secret = sealed
    account.totp_enabled_at = None
    account.totp_last_step = None
    await db.commit()
    return secret


async def confirm_enrolment(
    db: AsyncSession, account: User | Operator, code: str, authenticator: Authenticator
) -> None:
    """The first valid code proves the app holds the secret; then it is required."""
    if account.totp_secret is None:
        raise InvalidInput({"code": "Start the set-up again."})
    await check_second_factor(db, account, code, authenticator)
    account.totp_enabled_at = utcnow()
    await db.commit()
