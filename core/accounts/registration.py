"""Creating accounts: consumers and Professionals sign up; staff and operators are made."""

from __future__ import annotations

import asyncio

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.forms import (
    ConsumerRegistration,
    PersonDetails,
    ProfessionalRegistration,
    StaffAccount,
)
from praxis.core.accounts.models import Operator, Professional, ProfessionalStatus, Role, User
from praxis.core.accounts.passwords import Passwords
from praxis.core.errors import InvalidInput

USERNAME_TAKEN = "That username is taken; choose another."


async def _ensure_username_free(db: AsyncSession, username: str) -> None:
    # Select the entity's column (not a bare EXISTS) so the tenant filter applies: the
    # same username is free in another clinic.
    taken = await db.scalar(select(User.id).where(User.username == username).limit(1))
    if taken is not None:
        raise InvalidInput({"username": USERNAME_TAKEN})


def _person(details: PersonDetails) -> dict[str, str]:
    return details.model_dump(
        include={"full_name", "email", "phone", "address_line1", "address_line2", "town"}
    ) | {"postcode": details.postcode}


async def _add_user(
    db: AsyncSession,
    form: ConsumerRegistration | StaffAccount,
    role: Role,
    passwords: Passwords,
) -> User:
    # Hash before touching the database: SQLite's write lock is not held during the slow hash.
    password_hash = await asyncio.to_thread(passwords.hash, form.password)
    await _ensure_username_free(db, form.username)
    user = User(
        username=form.username, role=role.value, password_hash=password_hash, **_person(form)
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError:  # a concurrent sign-up took the name between check and insert
        await db.rollback()
        raise InvalidInput({"username": USERNAME_TAKEN}) from None
    return user


async def register_consumer(
    db: AsyncSession, form: ConsumerRegistration, passwords: Passwords
) -> User:
    user = await _add_user(db, form, Role.CONSUMER, passwords)
    await db.commit()
    return user


async def register_professional(
    db: AsyncSession, form: ProfessionalRegistration, passwords: Passwords
) -> tuple[User, Professional]:
    """The profile stays pending, and off the portal, until a clinic admin approves it."""
    user = await _add_user(db, form, Role.PROFESSIONAL, passwords)
    profile = Professional(
        user_id=user.id,
        display_name=form.full_name,
        qualifications=form.qualifications,
        field_of_practice=form.field_of_practice,
        bio=form.bio,
        status=ProfessionalStatus.PENDING.value,
    )
    db.add(profile)
    await db.commit()
    return user, profile


async def create_clinic_admin(db: AsyncSession, form: StaffAccount, passwords: Passwords) -> User:
    user = await _add_user(db, form, Role.CLINIC_ADMIN, passwords)
    await db.commit()
    return user


async def create_operator(
    db: AsyncSession,
    *,
    username: str,
    full_name: str,
    email: str,
    password: str,
    passwords: Passwords,
) -> Operator:
    if await db.scalar(select(exists().where(Operator.username == username))):
        raise InvalidInput({"username": USERNAME_TAKEN})
    operator = Operator(
        username=username,
        full_name=full_name,
        email=email,
        password_hash=await asyncio.to_thread(passwords.hash, password),
    )
    db.add(operator)
    await db.commit()
    return operator
