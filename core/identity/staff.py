"""Whom a verified email from the clinic's provider signs in: one active staff account."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.models import Role, User
from praxis.core.identity.oidc import SignInFailed

STAFF_ROLES = tuple(role.value for role in Role if role.is_staff)


async def staff_with_email(db: AsyncSession, email: str) -> User:
    """The clinic's staff account with this email (patients never sign in this way)."""
    found = list(
        await db.scalars(
            select(User)
            .where(func.lower(User.email) == email.lower())
            .where(User.role.in_(STAFF_ROLES), User.is_active.is_(True))
            .limit(2)
        )
    )
    if not found:
        raise SignInFailed(
            "No staff account of this clinic uses that email address. Ask your clinic's "
            "admin to invite you with it."
        )
    if len(found) > 1:
        raise SignInFailed(
            "More than one staff account uses that email address, so it cannot say which is "
            "yours. Sign in with your username, and ask your admin to fix the addresses."
        )
    return found[0]
