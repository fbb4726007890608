"""The tenant's directory of Professionals and the clinic admin's approval of them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from praxis.core.accounts.models import Professional, ProfessionalStatus, User
from praxis.core.db import utcnow
from praxis.core.errors import Conflict, NotFound


async def approved_professionals(db: AsyncSession) -> list[Professional]:
    query = (
        select(Professional)
        .where(Professional.status == ProfessionalStatus.APPROVED.value)
        .order_by(Professional.display_name, Professional.id)
    )
    return list((await db.scalars(query)).all())


async def approved_professional(db: AsyncSession, professional_id: uuid.UUID) -> Professional:
    """An approved Professional of this tenant; anything else is simply not found."""
    found = await db.scalar(
        select(Professional).where(
            Professional.id == professional_id,
            Professional.status == ProfessionalStatus.APPROVED.value,
        )
    )
    if found is None:
        raise NotFound("We could not find that Professional.")
    return found


async def professionals_by_status(
    db: AsyncSession, status: ProfessionalStatus
) -> list[Professional]:
    query = (
        select(Professional)
        .options(joinedload(Professional.user))
        .where(Professional.status == status.value)
        .order_by(Professional.created_at, Professional.id)
    )
    return list((await db.scalars(query)).all())


async def profile_of(db: AsyncSession, user: User) -> Professional | None:
    return await db.scalar(select(Professional).where(Professional.user_id == user.id))


async def decide(
    db: AsyncSession, professional_id: uuid.UUID, *, approve: bool, by: User
) -> Professional:
    """Approve (the Professional appears on the portal) or reject a pending application."""
    profile = await db.get(Professional, (db.info["tenant_id"], professional_id))
    if profile is None:
        raise NotFound("We could not find that Professional.")
    target = ProfessionalStatus.APPROVED if approve else ProfessionalStatus.REJECTED
    if profile.status == target.value:
        raise Conflict(f"This Professional is already {target.value}.")
    profile.status = target.value
    profile.decided_at = utcnow()
    profile.decided_by = by.id
    await db.commit()
    return profile


async def professional_by_id(db: AsyncSession, professional_id: uuid.UUID) -> Professional:
    """Any Professional of this tenant, whatever their status (for its admins)."""
    found = await db.get(Professional, (db.info["tenant_id"], professional_id))
    if found is None:
        raise NotFound("We could not find that Professional.")
    return found
