"""Staff bulk downloads (the appointments list, the ledger, the full export of a clinic that
leaves) are disclosures of many people's
data at once: each is an EXPORT entry in the clinic's ledger naming who took it, when and what
kinds of data, before the first byte leaves."""

from __future__ import annotations

import uuid

from praxis.core import ledger
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.core.providers.manifest import DataCategory
from praxis.core.tenancy import Database
from praxis.tenants.directory import TenantInfo

APPOINTMENTS = (DataCategory.NAME, DataCategory.APPOINTMENT)
EVERYTHING = tuple(DataCategory)  # the clinic's full export: every record of every patient
LEDGER = ()  # the ledger holds ids and kinds of data, never the data itself


async def record(
    database: Database,
    tenant: TenantInfo,
    *,
    actor_id: uuid.UUID,
    operation: str,
    categories: tuple[DataCategory, ...],
    what: str,
) -> None:
    """In a transaction of its own (the download itself only reads)."""
    async with database.writing(tenant.id) as db:
        await ledger.append(
            db,
            Entry(
                kind=EventKind.EXPORT,
                status=Status.RECORDED,
                recipient="clinic staff",
                recipient_kind=RecipientKind.OTHER,
                operation=operation,
                categories=[c.value for c in categories],
                purpose=f"a staff download of {what}",
                legal_basis="the clinic's own records, as controller",
                actor_id=actor_id,
            ),
        )
        await db.commit()
