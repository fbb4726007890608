"""Patients as the front desk sees them: find one, or keep a record for someone who phones.

A record without a portal account has a username no one can type (it starts with "~") and
no password (a hash no password matches), so nobody signs in with it; it holds only what the
patient gave: a name, and an email address or a phone number or both. Messages follow what
it holds: no email address, no email; no phone number, no text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.fields import clean_email, clean_line
from praxis.core.accounts.models import Role, User
from praxis.core.desk.claims import RECORD_PREFIX
from praxis.core.errors import InvalidInput, NotFound

PER_PAGE = 20
UNUSABLE_HASH = "!record-without-account"  # not an argon2 hash: every password fails


@dataclass(frozen=True)
class Found:
    patients: list[User]
    page: int
    more: bool


def has_account(user: User) -> bool:
    return not user.username.startswith(RECORD_PREFIX)


def _like(words: str) -> str:
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


async def search(db: AsyncSession, words: str = "", *, page: int = 1) -> Found:
    """Patients whose name, email or phone holds ``words``, by name, a page at a time."""
    query = select(User).where(User.role == Role.CONSUMER.value)
    words = words.strip()[:100]
    if words:
        pattern = _like(words)
        digits = "".join(c for c in words if c.isdigit() or c == "+")
        matches = [
            func.lower(User.full_name).like(pattern, escape="\\"),
            func.lower(User.email).like(pattern, escape="\\"),
        ]
        if len(digits.lstrip("+")) >= 3:
            # phones are stored as +447911123456: match the digits typed, less a leading 0
            matches.append(User.phone.like(f"%{digits.lstrip('+').lstrip('0')}%"))
        query = query.where(or_(*matches))
    page = max(1, page)
    rows = list(
        await db.scalars(
            query.order_by(User.full_name, User.id)
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)
        )
    )
    return Found(rows[:PER_PAGE], page, len(rows) > PER_PAGE)


async def patient(db: AsyncSession, person_id: uuid.UUID) -> User:
    """A patient of this clinic; staff's or another clinic's ids are not found."""
    found = await db.scalar(
        select(User).where(User.id == person_id, User.role == Role.CONSUMER.value)
    )
    if found is None:
        raise NotFound("We could not find that patient.")
    return found


def _phone(value: str, region: str) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError("Enter a phone number, like 07911 123456 or +44 7911 123456.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("That phone number is not valid; check the digits and country code.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


async def create_record(
    db: AsyncSession, *, full_name: str, email: str, phone: str, region: str
) -> User:
    """Keep a record for a patient without a portal account (the caller commits)."""
    problems: dict[str, str] = {}
    cleaned: dict[str, str] = {"email": "", "phone": ""}
    try:
        cleaned["full_name"] = clean_line(full_name)
        if not cleaned["full_name"] or len(cleaned["full_name"]) > 200:
            problems["full_name"] = "Enter the patient's full name (at most 200 characters)."
    except ValueError as exc:
        problems["full_name"] = str(exc)
    if email.strip():
        try:
            cleaned["email"] = clean_email(email)
        except ValueError as exc:
            problems["email"] = str(exc)
    if phone.strip():
        try:
            cleaned["phone"] = _phone(phone, region)
        except ValueError as exc:
            problems["phone"] = str(exc)
    if not email.strip() and not phone.strip():
        problems["phone"] = "Enter a phone number or an email address, to reach the patient."
    if problems:
        raise InvalidInput(problems)
    record_id = uuid.uuid4()
    user = User(
        id=record_id,
        username=f"{RECORD_PREFIX}{record_id.hex[:24]}",
        role=Role.CONSUMER.value,
        full_name=cleaned["full_name"],
        email=cleaned["email"],
        phone=cleaned["phone"],
        address_line1="",
        town="",
        postcode="",
        password_hash=UNUSABLE_HASH,
    )
    db.add(user)
    await db.flush()
    return user
