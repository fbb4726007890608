"""The messages sent to a person, for their data export (P31): which channel, what kind of
message, through which processor, and what became of it. Never the number or address used
(the export's account section holds the current ones)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.notifications.models import SentMessage

PAGE = 500


async def sent_messages(db: AsyncSession, subject_id: uuid.UUID) -> AsyncIterator[dict[str, Any]]:
    """Every message sent to the person, a page at a time."""
    after: uuid.UUID | None = None
    while True:
        query = select(SentMessage).where(SentMessage.recipient_id == subject_id)
        if after is not None:
            query = query.where(SentMessage.id > after)
        rows = list((await db.scalars(query.order_by(SentMessage.id).limit(PAGE))).all())
        count, after = len(rows), rows[-1].id if rows else None
        rows.reverse()
        while rows:  # let go one by one: two pages are never held at once
            row = rows.pop()
            yield {
                "id": row.id,
                "channel": row.channel,
                "message": row.template,
                "processor": row.plugin,
                "appointment_id": row.appointment_id,
                "status": row.status,
                "sent_at": row.created_at,
            }
        if count < PAGE:
            return
