"""Signed checkpoints: each clinic's chain head, signed with a key the database never holds.

A checkpoint (number, seq, hash, time) says "entry ``seq`` had hash ``hash`` then". Numbers
count up from 1 per clinic, so a deleted checkpoint leaves a gap; the app's role may only
read and add them (PostgreSQL). The worker signs each clinic's head once a day and every
``praxis audit verify`` signs the head it has just verified: never per entry (hot paths).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, utcnow
from praxis.core.ledger.events import LedgerHead
from praxis.core.ledger.signing import PublicKey, SigningKey
from praxis.core.tenancy import TenantContextMissing, TenantScoped, session_tenant

EVERY = timedelta(days=1)  # how often the worker signs a clinic's head


class LedgerCheckpoint(TenantScoped, Base):
    __tablename__ = "ledger_checkpoints"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)  # the last entry it covers
    hash: Mapped[str] = mapped_column(String(64))  # that entry's hash
    signed_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(32))  # which key signed it (rotation)
    signature: Mapped[str] = mapped_column(String(128))


@dataclass(frozen=True)
class Signed:
    """A checkpoint as verified: from the database or from a clinic's download."""

    number: int
    seq: int
    hash: str
    signed_at: datetime
    signature: str

    def message(self, tenant_id: uuid.UUID) -> bytes:
        """Exactly what was signed: the clinic, the number, the entry, its hash, the time."""
        content = {
            "tenant_id": str(tenant_id),
            "number": self.number,
            "seq": self.seq,
            "hash": self.hash,
            "signed_at": self.signed_at.astimezone(UTC).isoformat(),
        }
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()

    def verifies(self, tenant_id: uuid.UUID, key: PublicKey) -> bool:
        return key.verifies(self.message(tenant_id), self.signature)

    @classmethod
    def of(cls, row: LedgerCheckpoint) -> Signed:
        return cls(row.number, row.seq, row.hash, row.signed_at, row.signature)


async def signed(db: AsyncSession) -> list[Signed]:
    """The session's clinic's checkpoints, oldest first."""
    rows = await db.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.number))
    return [Signed.of(row) for row in rows]


async def _last(db: AsyncSession) -> LedgerCheckpoint | None:
    query = select(LedgerCheckpoint).order_by(LedgerCheckpoint.number.desc()).limit(1)
    return await db.scalar(query)


async def sign(
    db: AsyncSession, key: SigningKey, *, seq: int, digest: str, now: datetime | None = None
) -> Signed | None:
    """Sign entry ``seq`` (hash ``digest``) as the clinic's next checkpoint, in the caller's
    transaction. None when a later entry is already signed (another process got there)."""
    tenant_id = session_tenant(db.sync_session)
    if tenant_id is None:
        raise TenantContextMissing("a ledger checkpoint was signed without a tenant")
    # The head's row lock makes checkpoints take turns, as appends do.
    await db.scalar(select(LedgerHead).with_for_update())
    last = await _last(db)
    if last is not None and last.seq > seq:
        return None
    at = (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    draft = Signed((last.number + 1) if last else 1, seq, digest, at, "")
    signature = key.sign(draft.message(tenant_id))
    db.add(
        LedgerCheckpoint(
            number=draft.number,
            seq=seq,
            hash=digest,
            signed_at=at,
            key_id=key.public.key_id,
            signature=signature,
        )
    )
    await db.flush()
    return Signed(draft.number, seq, digest, at, signature)


async def sign_head(
    db: AsyncSession, key: SigningKey, *, now: datetime | None = None
) -> Signed | None:
    """The worker's daily checkpoint: the head as it stands, if a day has passed since the
    last one (None when nothing is due or the clinic has no ledger yet)."""
    now = now or utcnow()
    last = await _last(db)
    if last is not None and last.signed_at > now - EVERY:
        return None
    head = await db.scalar(select(LedgerHead))
    if head is None or head.last_seq == 0:
        return None
    return await sign(db, key, seq=head.last_seq, digest=head.last_hash, now=now)
