"""`praxis audit verify`: walk each tenant's ledger chain and report the first broken entry.

The chain alone shows an entry edited, moved or deleted in the middle; the signed
checkpoints (``checkpoints``) show what the chain cannot: entries deleted from the end with
the head rewound, a clinic's whole ledger and head deleted, or history rewritten with every
later hash recomputed. ``walk`` is shared with the offline check of a download (``offline``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.ledger import events as ledger
from praxis.core.ledger.checkpoints import Signed, signed
from praxis.core.ledger.signing import PublicKey

Problem = Literal[
    "edited",
    "missing",
    "out_of_order",
    "truncated",
    "appended",
    "rewound",
    "rewritten",
    "headless",
    "checkpoint_missing",
    "checkpoint_forged",
    "checkpoint_backwards",
]

MESSAGES: dict[Problem, str] = {
    "edited": "entry {seq} was changed after it was written (its hash no longer matches its "
    "content)",
    "missing": "entry {seq} is missing: the entries before and after it are there, so it was "
    "deleted",
    "out_of_order": "entry {seq} does not follow the entry before it (entries were moved or "
    "removed)",
    "truncated": "entry {seq} is missing: the chain's head records more entries than the "
    "ledger ends with",
    "appended": "entry {seq} is past the end the chain's head records: it was added around "
    "the ledger",
    "rewound": "entry {seq} is missing: signed checkpoint {checkpoint} covers the ledger up to "
    "entry {signed}, so entries were deleted from the end",
    "rewritten": "entry {seq} is not the entry signed checkpoint {checkpoint} covers: the "
    "ledger was rewritten at or before entry {seq}",
    "headless": "the chain's head is missing, yet signed checkpoint {checkpoint} covers the "
    "ledger up to entry {signed}: entries were deleted",
    "checkpoint_missing": "checkpoint {checkpoint} is missing: signed checkpoints were deleted",
    "checkpoint_forged": "checkpoint {checkpoint} does not verify with the ledger's public "
    "key: it was altered, or not signed by this platform's key",
    "checkpoint_backwards": "checkpoint {checkpoint} goes back in the ledger or in time from "
    "the one before it: it was altered",
}


@dataclass(frozen=True)
class Broken:
    seq: int
    problem: Problem
    checkpoint: int | None = None  # the checkpoint that shows it, for checkpoints' problems
    signed: int = 0  # the last entry that checkpoint covers

    def describe(self) -> str:
        return MESSAGES[self.problem].format(
            seq=self.seq, checkpoint=self.checkpoint, signed=self.signed
        )


@dataclass(frozen=True)
class Verdict:
    entries: int
    broken: Broken | None = None
    last_hash: str = field(default=ledger.GENESIS, compare=False)  # what a new checkpoint signs
    checkpoints: int = field(default=0, compare=False)

    @property
    def ok(self) -> bool:
        return self.broken is None


class Walk:
    """One pass along a chain, entry by entry, remembering the hashes checkpoints name."""

    def __init__(self, tenant_id: uuid.UUID, marked: set[int]) -> None:
        self.tenant_id = tenant_id
        self.marked = marked
        self.hashes: dict[int, str] = {}
        self.count = 0
        self.previous = ledger.GENESIS

    def step(self, seq: int, prev_hash: str, digest: str, fields: dict[str, Any]) -> Broken | None:
        """The next entry in seq order; the first problem found, or None."""
        if seq != self.count + 1:
            return Broken(self.count + 1, "missing")
        if ledger.event_hash(self.tenant_id, prev_hash, fields) != digest:
            return Broken(seq, "edited")
        if prev_hash != self.previous:
            return Broken(seq, "out_of_order")
        if seq in self.marked:
            self.hashes[seq] = digest
        self.previous = digest
        self.count += 1
        return None


def checkpoint_sequence(
    tenant_id: uuid.UUID, marks: Sequence[Signed], key: PublicKey
) -> Broken | None:
    """Numbered from 1 without a gap, each signed by ``key``, seq and time never going back."""
    before: Signed | None = None
    for number, mark in enumerate(marks, start=1):
        if mark.number != number:
            return Broken(mark.seq, "checkpoint_missing", number)
        if not mark.verifies(tenant_id, key):
            return Broken(mark.seq, "checkpoint_forged", number)
        if before and (mark.seq < before.seq or mark.signed_at < before.signed_at):
            return Broken(mark.seq, "checkpoint_backwards", number)
        before = mark
    return None


def extends(walk: Walk, marks: Sequence[Signed]) -> Broken | None:
    """The chain still holds every entry each checkpoint signed, with the hash it signed."""
    for mark in marks:
        if mark.seq > walk.count:
            return Broken(walk.count + 1, "rewound", mark.number, mark.seq)
        if walk.hashes.get(mark.seq) != mark.hash:
            return Broken(mark.seq, "rewritten", mark.number, mark.seq)
    return None


def _head(walk: Walk, head: ledger.LedgerHead | None, marks: Sequence[Signed]) -> Broken | None:
    count = walk.count
    if head is None:  # entries, or checkpoints, without the head that chains them: removed
        if marks:
            return Broken(count + 1, "headless", marks[-1].number, marks[-1].seq)
        return Broken(count, "truncated") if count else None
    if head.last_seq > count:  # entries were removed from the end
        return Broken(count + 1, "truncated")
    if head.last_seq < count:  # rows were inserted without moving the head
        return Broken(head.last_seq + 1, "appended")
    if head.last_hash != walk.previous:  # the last entry was rewritten, hash and all
        return Broken(count, "edited")
    return None


async def verify(db: AsyncSession, tenant_id: uuid.UUID, key: PublicKey) -> Verdict:
    """Check the session's tenant chain: contiguous seq, each hash, each link, the head, and
    the signed checkpoints it must extend."""
    marks = await signed(db)
    walk = Walk(tenant_id, {m.seq for m in marks})
    async for rows in ledger.batches(db):
        for event in rows:
            broken = walk.step(event.seq, event.prev_hash, event.hash, ledger.row_fields(event))
            if broken:
                return Verdict(walk.count, broken)
    broken = (
        checkpoint_sequence(tenant_id, marks, key)
        or _head(walk, await ledger.head(db), marks)
        or extends(walk, marks)
    )
    if broken:
        return Verdict(min(walk.count, max(broken.seq - 1, 0)), broken)
    return Verdict(walk.count, None, walk.previous, len(marks))
