"""A consumer restricts processing of their data, or lifts the restriction (P34), from the
portal; each change is in the ledger (who, when), the account row holds the current state."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.accounts.models import User
from praxis.core.accounts.restriction import restricted
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.tenants.directory import TenantInfo


def _recorded(tenant: TenantInfo, user: User, operation: str, by: uuid.UUID | None) -> Entry:
    return Entry(
        kind=EventKind.RIGHTS_REQUEST,
        status=Status.RECORDED,
        recipient=tenant.name,
        recipient_kind=RecipientKind.OTHER,
        operation=operation,
        categories=[],
        purpose="restriction of processing: stored only, nothing new done",
        legal_basis="right to restriction (UK GDPR Art. 18)",
        subject_id=user.id,
        actor_id=by,
    )


async def restrict(
    db: AsyncSession, tenant: TenantInfo, user: User, *, by: uuid.UUID | None, now: datetime
) -> bool:
    """Restrict (idempotent); False if it already was. The caller commits."""
    if restricted(user):
        return False
    user.restricted_at = now
    await ledger.append(db, _recorded(tenant, user, "restriction", by), now=now)
    return True


async def lift(
    db: AsyncSession, tenant: TenantInfo, user: User, *, by: uuid.UUID | None, now: datetime
) -> bool:
    if not restricted(user):
        return False
    user.restricted_at = None
    await ledger.append(db, _recorded(tenant, user, "restriction_lifted", by), now=now)
    return True
