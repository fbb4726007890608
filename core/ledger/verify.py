"""`praxis audit verify`: walk each tenant's ledger chain and report the first broken entry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.ledger import events as ledger

Problem = Literal["edited", "missing", "out_of_order", "truncated", "appended"]

MESSAGES: dict[Problem, str] = {
    "edited": "was changed after it was written (its hash no longer matches its content)",
    "missing": "is missing: the entries before and after it are there, so it was deleted",
    "out_of_order": "does not follow the entry before it (entries were moved or removed)",
    "truncated": "is missing: the chain's head records more entries than the ledger ends with",
    "appended": "is past the end the chain's head records: it was added around the ledger",
}


@dataclass(frozen=True)
class Broken:
    seq: int
    problem: Problem

    def describe(self) -> str:
        return f"entry {self.seq} {MESSAGES[self.problem]}"


@dataclass(frozen=True)
class Verdict:
    entries: int
    broken: Broken | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def verify(db: AsyncSession, tenant_id: uuid.UUID) -> Verdict:
    """Check the session's tenant chain: contiguous seq, each hash, each link, the head."""
    expected_seq = 1
    previous = ledger.GENESIS
    count = 0
    async for rows in ledger.batches(db):
        for event in rows:
            if event.seq != expected_seq:
                return Verdict(count, Broken(expected_seq, "missing"))
            recomputed = ledger.event_hash(tenant_id, event.prev_hash, ledger.row_fields(event))
            if recomputed != event.hash:
                return Verdict(count, Broken(event.seq, "edited"))
            if event.prev_hash != previous:
                return Verdict(count, Broken(event.seq, "out_of_order"))
            previous = event.hash
            expected_seq += 1
            count += 1
    head = await ledger.head(db)
    if head is None:  # entries without the head that chains them: it was removed
        return Verdict(count, Broken(count, "truncated")) if count else Verdict(0)
    if head.last_seq > count:  # entries were removed from the end
        return Verdict(count, Broken(count + 1, "truncated"))
    if head.last_seq < count:  # rows were inserted without moving the head
        return Verdict(head.last_seq, Broken(head.last_seq + 1, "appended"))
    if head.last_hash != previous:  # the last entry was rewritten, hash and all
        return Verdict(count - 1, Broken(count, "edited"))
    return Verdict(count)
