"""Changes to a clinic's staff, in the ledger: who invited, sent again, cancelled, removed,
invited back or changed the roles of whom, and when. Ids and role names only: an invitee's
name and address stay on the invitation (deleted when it ends), never in the append-only
ledger."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status

INVITED = "staff_invited"
INVITED_BACK = "staff_invited_back"
SENT_AGAIN = "staff_invitation_sent_again"
CANCELLED = "staff_invitation_cancelled"
REMOVED = "staff_removed"
ROLES_CHANGED = "staff_roles_changed"


def actor(invited_by: str) -> uuid.UUID | None:
    """The member of staff in an invitation's ``invited_by`` ("user:<id>"); an operator: None."""
    kind, _, value = invited_by.partition(":")
    if kind != "user":
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def record(
    db: AsyncSession,
    operation: str,
    *,
    by: uuid.UUID | None,
    now: datetime,
    person: uuid.UUID | None = None,
    invitation: uuid.UUID | None = None,
    reason: str = "",
) -> None:
    """One entry in the caller's transaction; ``by`` None: the platform's operator."""
    await ledger.append(
        db,
        Entry(
            kind=EventKind.STAFF,
            status=Status.RECORDED,
            recipient="the clinic",
            recipient_kind=RecipientKind.OTHER,
            operation=operation,
            categories=[],
            purpose="keep track of who may reach the clinic's records",
            legal_basis="accountability and security (UK GDPR Art. 5(2), Art. 32)",
            subject_id=person,
            actor_id=by,
            correlation_id=f"invitation:{invitation}" if invitation else "",
            reason="; ".join(filter(None, (reason, "" if by else "by the platform's operator"))),
        ),
        now=now,
    )
