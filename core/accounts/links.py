"""Single-use emailed links (staff invitations, claiming a record kept by the front desk,
password resets of clinic accounts and operators): only the token's digest is stored, and a
link is open until it is used or expires."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.crypto import token_digest
from praxis.core.outbox import Job

MAX_TOKEN = 128  # longer is nobody's link: refused before hashing


class Link(Protocol):
    token_hash: str
    used_at: datetime | None
    expires_at: datetime


def is_open(row: Link | None, now: datetime) -> bool:
    return row is not None and row.used_at is None and row.expires_at > now


async def find_open(
    db: AsyncSession, model: Any, token: str, *, now: datetime, lock: bool = False
) -> Any:
    """The open row of ``model`` this link's token belongs to, or None (unknown, used or
    expired). ``lock``: held until the caller's commit, so a link is spent once."""
    if not token or len(token) > MAX_TOKEN:
        return None
    query = select(model).where(model.token_hash == token_digest(token))
    row = await db.scalar(query.with_for_update() if lock else query)
    return row if is_open(row, now) else None


ONCE = "The link works once. If you did not expect this, ignore this email.\n"


async def email_link(
    job: Job, *, subject_id: Any, to: str, subject: str, opening: str, link: str
) -> None:
    """The email that carries a single-use link: ``opening``, the link, then what to do if
    it was not expected. Sent once per job (its idempotency key)."""
    await job.providers.email.send(
        subject_id=subject_id,
        to=to,
        subject=subject,
        text=f"{opening}\n{link}\n\n{ONCE}",
        about=(),
        idempotency_key=job.key,
        attempt=job.attempt,
    )
