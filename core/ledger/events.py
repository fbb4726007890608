"""The disclosure and access ledger: append-only, hash-chained per tenant, queried per subject.

Every event names who received which categories of data about whom, why and on what legal
basis. It holds ids, categories and purposes only (no special-category content), so erasing
a person never has to rewrite it. Each tenant's events form one chain: ``seq`` counts up
from 1 and each ``hash`` covers the event and the hash before it, so ``praxis audit verify``
finds an edited, deleted or reordered entry. On PostgreSQL the app's role may only SELECT
and INSERT here.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, table_of, utcnow
from praxis.core.tenancy import (
    TenantContextMissing,
    TenantScoped,
    insert_rows,
    narrowed,
    run,
    select_rows,
    session_tenant,
    update_rows,
)

GENESIS = "0" * 64  # the hash "before" a tenant's first event


class EventKind(enum.StrEnum):
    DISCLOSURE = "disclosure"  # data left for a third party, or reached a Professional
    ACCESS = "access"  # someone opened a record (questionnaire answers, notes)
    EXPORT = "export"  # data was downloaded
    CONSENT = "consent"  # a consent was given or withdrawn
    RIGHTS_REQUEST = "rights_request"  # access, erasure, restriction... asked for
    POLICY = "policy"  # the clinic's privacy settings or notice changed (who, when, what)
    RETENTION = "retention"  # records deleted when their retention period ended
    ERASURE = "erasure"  # a provider was asked to erase what it holds about a person
    PAYMENT = "payment"  # a payment held for staff: not what the booking asked for
    STAFF = "staff"  # who may reach the clinic's records changed: invited, removed, back


class Status(enum.StrEnum):
    ATTEMPTED = "attempted"  # written before the bytes leave
    SUCCEEDED = "succeeded"  # the provider accepted it
    FAILED = "failed"  # the provider refused it or could not be reached
    UNKNOWN = "unknown"  # the answer was lost: it may have arrived (a later attempt settles)
    RECORDED = "recorded"  # done outside the software, or in one step (an access)


class RecipientKind(enum.StrEnum):
    PROCESSOR = "processor"  # a provider plugin's processor
    PROFESSIONAL = "professional"
    REGULATOR = "regulator"  # GMC, CQC, ICO...
    BUYER = "buyer"  # a buyer of the business
    OTHER = "other"


class LedgerEvent(TenantScoped, Base):
    __tablename__ = "ledger_events"
    __table_args__ = (
        Index(None, "tenant_id", "subject_id", "seq"),
        Index(None, "tenant_id", "kind", "seq"),
        Index(None, "tenant_id", "correlation_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID | None]  # whom the data is about
    actor_id: Mapped[uuid.UUID | None]  # who acted: a staff member, or None for the platform
    recipient: Mapped[str] = mapped_column(String(200))
    recipient_kind: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[uuid.UUID | None]  # a Professional's id, when one is the recipient
    plugin: Mapped[str] = mapped_column(String(48))
    operation: Mapped[str] = mapped_column(String(48))
    categories: Mapped[str] = mapped_column(String(200))  # sorted, comma-separated
    purpose: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(String(200))
    correlation_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    attempt_seq: Mapped[int | None] = mapped_column(BigInteger)  # an outcome names its attempt
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def category_list(self) -> list[str]:
        return [c for c in self.categories.split(",") if c]


class LedgerHead(TenantScoped, Base):
    """The end of a tenant's chain; its row lock makes appends take turns."""

    __tablename__ = "ledger_heads"

    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class Entry:
    """One event to append. Text fields must hold no health details."""

    kind: EventKind
    status: Status
    recipient: str
    recipient_kind: RecipientKind
    operation: str
    categories: Sequence[str]
    purpose: str
    legal_basis: str
    subject_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    recipient_id: uuid.UUID | None = None
    plugin: str = ""
    correlation_id: str = ""
    reason: str = ""
    attempt_seq: int | None = None


HASHED = (
    "recorded_at",
    "kind",
    "status",
    "subject_id",
    "actor_id",
    "recipient",
    "recipient_kind",
    "recipient_id",
    "plugin",
    "operation",
    "categories",
    "purpose",
    "legal_basis",
    "correlation_id",
    "reason",
    "attempt_seq",
)


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def event_hash(tenant_id: uuid.UUID, prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and the event's content. ``seq`` is left out on
    purpose: a moved entry then shows as out of order rather than as edited."""
    content = {name: _text(fields[name]) for name in HASHED}
    content["tenant_id"] = str(tenant_id)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def row_fields(event: LedgerEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED}


# Columns only, straight from the locked row: an entity loaded earlier in the session could
# be stale by now, and the next seq would be one another session already took.
_HEADS = table_of(LedgerHead)
_HEAD = narrowed(_HEADS)
_LOCKED_HEAD = select_rows(select(_HEAD.c.last_seq, _HEAD.c.last_hash).with_for_update())
_ADD_EVENT = insert_rows(table_of(LedgerEvent))
_MOVE_HEAD = update_rows(
    _HEADS, where=(), values={"last_seq": bindparam("seq"), "last_hash": bindparam("digest")}
)


async def _first_head(db: AsyncSession) -> None:
    """A tenant's first event starts its chain; two first events at once take turns."""
    try:
        async with db.begin_nested():
            db.add(LedgerHead(last_seq=0, last_hash=GENESIS))
    except IntegrityError:
        pass  # another transaction made it first: its row is locked next


@dataclass(frozen=True)
class Appended:
    seq: int
    hash: str


async def append(db: AsyncSession, entry: Entry, *, now: datetime | None = None) -> Appended:
    """Add ``entry`` at the end of the session's tenant chain, in the caller's transaction.

    The head row is locked first, so concurrent appends for one tenant take turns (on
    SQLite the write transaction already serialises them). Three statements, no
    unit-of-work: the lock, the event and the head move on at once.
    """
    tenant_id = session_tenant(db.sync_session)
    if tenant_id is None:
        raise TenantContextMissing("a ledger event was appended without a tenant")
    head = (await run(db, _LOCKED_HEAD)).first()
    if head is None:
        await _first_head(db)
        head = (await run(db, _LOCKED_HEAD)).one()
    fields: dict[str, Any] = {
        "recorded_at": (now or utcnow()).astimezone(UTC),
        "kind": entry.kind.value,
        "status": entry.status.value,
        "subject_id": entry.subject_id,
        "actor_id": entry.actor_id,
        "recipient": entry.recipient[:200],
        "recipient_kind": entry.recipient_kind.value,
        "recipient_id": entry.recipient_id,
        "plugin": entry.plugin,
        "operation": entry.operation,
        "categories": ",".join(sorted(set(entry.categories))),
        "purpose": entry.purpose[:300],
        "legal_basis": entry.legal_basis[:200],
        "correlation_id": entry.correlation_id[:64],
        "reason": entry.reason[:500],
        "attempt_seq": entry.attempt_seq,
    }
    prev_hash = head.last_hash
    digest = event_hash(tenant_id, prev_hash, fields)
    seq = head.last_seq + 1
    await run(db, _ADD_EVENT, {"seq": seq, "prev_hash": prev_hash, "hash": digest, **fields})
    await run(db, _MOVE_HEAD, {"seq": seq, "digest": digest})
    return Appended(seq, digest)


@dataclass(frozen=True)
class LedgerFilter:
    """What staff narrow the tenant's ledger by; every field is optional."""

    kind: str | None = None
    subject_id: uuid.UUID | None = None
    recipient: str | None = None  # a substring of the recipient's name
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[Any]:
        clauses: list[Any] = []
        if self.kind:
            clauses.append(LedgerEvent.kind == self.kind)
        if self.subject_id:
            clauses.append(LedgerEvent.subject_id == self.subject_id)
        if self.recipient:
            clauses.append(LedgerEvent.recipient.contains(self.recipient, autoescape=True))
        if self.since:
            clauses.append(LedgerEvent.recorded_at >= self.since)
        if self.until:
            clauses.append(LedgerEvent.recorded_at < self.until)
        return clauses


async def subject_events(
    db: AsyncSession, subject_id: uuid.UUID, *, kinds: Sequence[EventKind] = (), limit: int = 500
) -> list[LedgerEvent]:
    """One person's events, newest first: an index range on (tenant, subject, seq)."""
    query = select(LedgerEvent).where(LedgerEvent.subject_id == subject_id)
    if kinds:
        query = query.where(LedgerEvent.kind.in_([k.value for k in kinds]))
    query = query.order_by(LedgerEvent.seq.desc()).limit(limit)
    return list((await db.scalars(query)).all())


async def browse(
    db: AsyncSession, where: LedgerFilter, *, before_seq: int | None = None, limit: int = 50
) -> list[LedgerEvent]:
    """A page of the tenant's ledger, newest first; pass the last seq shown to go on."""
    query = select(LedgerEvent).where(*where.where())
    if before_seq is not None:
        query = query.where(LedgerEvent.seq < before_seq)
    query = query.order_by(LedgerEvent.seq.desc()).limit(limit)
    return list((await db.scalars(query)).all())


async def batches(
    db: AsyncSession, where: LedgerFilter | None = None, *, size: int = 2000
) -> AsyncIterator[list[LedgerEvent]]:
    """Every matching event in chain order, a batch at a time (exports, verification)."""
    after = 0
    clauses = where.where() if where else []
    while True:
        query = (
            select(LedgerEvent)
            .where(LedgerEvent.seq > after, *clauses)
            .order_by(LedgerEvent.seq)
            .limit(size)
        )
        rows = list((await db.scalars(query)).all())
        if not rows:
            return
        yield rows
        after = rows[-1].seq


async def unsettled(db: AsyncSession, correlation_id: str) -> list[LedgerEvent]:
    """Attempts for this correlation id whose latest outcome is *unknown*, oldest first."""
    query = (
        select(LedgerEvent)
        .where(LedgerEvent.correlation_id == correlation_id)
        .order_by(LedgerEvent.seq)
    )
    events = list((await db.scalars(query)).all())
    latest = {e.attempt_seq: e.status for e in events if e.attempt_seq is not None}
    return [
        e
        for e in events
        if e.attempt_seq is None
        and e.status == Status.ATTEMPTED.value
        and latest.get(e.seq) == Status.UNKNOWN.value
    ]


async def head(db: AsyncSession) -> LedgerHead | None:
    return await db.scalar(select(LedgerHead))
