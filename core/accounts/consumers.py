"""Finding a clinic's consumer by what staff type: their username."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.models import Role, User


async def consumer_id(db: AsyncSession, username: str) -> uuid.UUID | None:
    """The id of the session's clinic's consumer with this username, if there is one."""
    found: uuid.UUID | None = await db.scalar(
        select(User.id).where(
            User.username == username.strip().lower(), User.role == Role.CONSUMER.value
        )
    )
    return found


async def usernames(db: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The usernames of these accounts of the session's clinic, by id (one query)."""
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.username).where(User.id.in_(ids)))
    return {row.id: row.username for row in rows}
