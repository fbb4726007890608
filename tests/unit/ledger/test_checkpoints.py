"""core.ledger.checkpoints and verify: signed checkpoints catch what a rewritten chain hides.

Each attack of issue 10 is repeated as the database's owner (who can recompute every hash)
and must now fail verification, naming what was done.
"""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from praxis.core import ledger, worker
from praxis.core.config import Settings
from praxis.core.db import utcnow
from praxis.core.ledger import LedgerCheckpoint, LedgerHead, checkpoints
from praxis.core.ledger import verify as audit
from praxis.core.ledger.signing import SigningKey
from praxis.core.runtime import Runtime
from praxis.core.tenancy import TenantContextMissing
from tests.conftest import BACKENDS
from tests.support import make_tenant
from tests.unit.ledger.test_events import EVENTS, HEADS, append, as_owner, at, verdict

P20 = pytest.mark.promise("P20")
MARKS = LedgerCheckpoint.__table__


async def checkpoint(rt: Runtime, tenant_id: uuid.UUID) -> checkpoints.Signed | None:
    """What `praxis audit verify` does after a clean verification: sign what it verified."""
    found = await verdict(rt, tenant_id)
    assert found.ok
    async with rt.database.writing(tenant_id) as db:
        mark = await checkpoints.sign(db, rt.ledger_key, seq=found.entries, digest=found.last_hash)
        await db.commit()
    return mark


async def ten_entries_signed(rt: Runtime) -> uuid.UUID:
    tenant = await make_tenant(rt, "alpha")
    await append(rt, tenant.id, *range(1, 11))
    assert await checkpoint(rt, tenant.id) is not None
    return tenant.id


async def set_head(conn: AsyncConnection, tenant_id: uuid.UUID, seq: int, digest: str) -> None:
    """The owner replaces the head row (an UPDATE that rewinds it is refused, see below)."""
    await conn.execute(delete(HEADS).where(HEADS.c.tenant_id == tenant_id))
    values = {"tenant_id": tenant_id, "last_seq": seq, "last_hash": digest}
    await conn.execute(insert(HEADS).values(values))


async def hash_of(conn: AsyncConnection, tenant_id: uuid.UUID, seq: int) -> str:
    return str((await conn.execute(select(EVENTS.c.hash).where(at(tenant_id, seq)))).scalar())


@P20
async def test_deleting_the_last_five_entries_and_rewinding_the_head_is_found(
    rt: Runtime, settings: Settings
) -> None:
    tenant_id = await ten_entries_signed(rt)
    async with as_owner(settings) as conn:
        await conn.execute(
            delete(EVENTS).where((EVENTS.c.tenant_id == tenant_id) & (EVENTS.c.seq > 5))
        )
        await set_head(conn, tenant_id, 5, await hash_of(conn, tenant_id, 5))
    found = await verdict(rt, tenant_id)
    assert found.broken == audit.Broken(6, "rewound", 1, 10)
    assert found.broken.describe() == (
        "entry 6 is missing: signed checkpoint 1 covers the ledger up to entry 10, "
        "so entries were deleted from the end"
    )


@P20
async def test_deleting_a_clinics_entries_and_its_head_is_found(
    rt: Runtime, settings: Settings
) -> None:
    tenant_id = await ten_entries_signed(rt)
    async with as_owner(settings) as conn:
        await conn.execute(delete(EVENTS).where(EVENTS.c.tenant_id == tenant_id))
        await conn.execute(delete(HEADS).where(HEADS.c.tenant_id == tenant_id))
    found = await verdict(rt, tenant_id)
    assert found.broken == audit.Broken(1, "headless", 1, 10)
    assert "the chain's head is missing, yet signed checkpoint 1" in found.broken.describe()


@P20
async def test_an_entry_edited_with_every_later_hash_and_the_head_recomputed_is_found(
    rt: Runtime, settings: Settings
) -> None:
    tenant_id = await ten_entries_signed(rt)
    async with as_owner(settings) as conn:
        rows = (
            await conn.execute(
                select(EVENTS).where(EVENTS.c.tenant_id == tenant_id).order_by(EVENTS.c.seq)
            )
        ).all()
        previous = ledger.GENESIS
        for row in (r._asdict() for r in rows):
            if row["seq"] == 3:
                row["purpose"] = "marketing"
            digest = ledger.event_hash(tenant_id, previous, row)
            await conn.execute(
                update(EVENTS)
                .where(at(tenant_id, row["seq"]))
                .values(purpose=row["purpose"], prev_hash=previous, hash=digest)
            )
            previous = digest
        await set_head(conn, tenant_id, 10, previous)
    found = await verdict(rt, tenant_id)
    assert found.broken == audit.Broken(10, "rewritten", 1, 10)
    assert "the ledger was rewritten at or before entry 10" in found.broken.describe()


@P20
async def test_a_deleted_altered_or_foreign_checkpoint_is_found(
    rt: Runtime, settings: Settings
) -> None:
    tenant_id = await ten_entries_signed(rt)
    for _ in range(2):
        assert await checkpoint(rt, tenant_id) is not None
    assert (await verdict(rt, tenant_id)).ok  # three checkpoints, in order
    mark = (MARKS.c.tenant_id == tenant_id) & (MARKS.c.number == 2)
    async with as_owner(settings) as conn:
        await conn.execute(update(MARKS).where(mark).values(seq=9))
    assert (await verdict(rt, tenant_id)).broken == audit.Broken(9, "checkpoint_forged", 2)
    # A checkpoint the owner signs with a key of their own does not verify either.
    stranger = SigningKey.from_text(base64.b64encode(b"s" * 32).decode())
    forged = checkpoints.Signed(2, 10, "f" * 64, utcnow(), "")
    async with as_owner(settings) as conn:
        await conn.execute(
            update(MARKS)
            .where(mark)
            .values(seq=10, signature=stranger.sign(forged.message(tenant_id)))
        )
    assert (await verdict(rt, tenant_id)).broken == audit.Broken(10, "checkpoint_forged", 2)
    async with as_owner(settings) as conn:
        await conn.execute(delete(MARKS).where(mark))
    broken = (await verdict(rt, tenant_id)).broken
    assert broken == audit.Broken(10, "checkpoint_missing", 2)
    assert broken.describe() == "checkpoint 2 is missing: signed checkpoints were deleted"


@P20
async def test_a_checkpoint_never_goes_back_and_needs_a_tenant(rt: Runtime) -> None:
    tenant_id = await ten_entries_signed(rt)
    async with rt.database.writing(tenant_id) as db:
        older = await checkpoints.sign(db, rt.ledger_key, seq=4, digest="0" * 64)
        assert older is None  # entry 10 is signed already: another process got there first
    async with rt.database.writing() as db:
        with pytest.raises(TenantContextMissing):
            await checkpoints.sign(db, rt.ledger_key, seq=1, digest="0" * 64)


@P20
async def test_the_worker_signs_each_clinics_head_once_a_day(rt: Runtime) -> None:
    alpha = await make_tenant(rt, "alpha")
    empty = await make_tenant(rt, "beta")
    await append(rt, alpha.id, 1, 2)
    tenants = [alpha, empty]
    now = utcnow()
    assert await worker.sign_checkpoints(rt, tenants, now=now) == 1  # beta has no ledger yet
    assert await worker.sign_checkpoints(rt, tenants, now=now + timedelta(hours=23)) == 0
    await append(rt, alpha.id, 3)
    assert await worker.sign_checkpoints(rt, tenants, now=now + timedelta(hours=25)) == 1
    async with rt.database.reading(alpha.id) as db:
        marks = await checkpoints.signed(db)
    assert [(m.number, m.seq) for m in marks] == [(1, 2), (2, 3)]
    assert all(m.verifies(alpha.id, rt.ledger_key.public) for m in marks)
    assert (await verdict(rt, alpha.id)).ok


@P20
async def test_the_apps_connection_cannot_rewind_the_head(rt: Runtime) -> None:
    tenant = await make_tenant(rt, "alpha")
    await append(rt, tenant.id, 1, 2, 3)
    for values in ({"last_seq": 1}, {"last_hash": "0" * 64}):
        async with rt.database.writing(tenant.id) as db:
            with pytest.raises(DBAPIError, match="the ledger head only moves forward"):
                await db.execute(update(LedgerHead).values(**values))
    await append(rt, tenant.id, 4)  # moving forward still works
    assert await verdict(rt, tenant.id) == audit.Verdict(4)


if "postgresql" in BACKENDS:

    @pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
    @P20
    async def test_the_apps_role_cannot_update_or_delete_checkpoints(
        rt: Runtime, backend: str
    ) -> None:
        tenant_id = await ten_entries_signed(rt)
        for statement in (update(LedgerCheckpoint).values(seq=1), delete(LedgerCheckpoint)):
            async with rt.database.writing(tenant_id) as db:
                with pytest.raises(DBAPIError, match="permission denied"):
                    await db.execute(statement)
        assert (await verdict(rt, tenant_id)).ok
