"""The disclosure and access ledger: append-only, hash-chained per tenant, queried per subject.

``events`` holds the table and ``append``; ``verify`` walks a chain (``praxis audit verify``);
``disclosures`` reads one person's "who received my data"; ``checkpoints`` signs each chain's
head with a key kept outside the database (``signing``); ``offline`` verifies a download.
"""

from praxis.core.ledger.checkpoints import LedgerCheckpoint, Signed
from praxis.core.ledger.disclosures import CATEGORY_WORDS, MANUAL, Disclosure, history
from praxis.core.ledger.events import (
    GENESIS,
    HASHED,
    Appended,
    Entry,
    EventKind,
    LedgerEvent,
    LedgerFilter,
    LedgerHead,
    RecipientKind,
    Status,
    append,
    batches,
    browse,
    event_hash,
    head,
    row_fields,
    subject_events,
    unsettled,
)

__all__ = [
    "CATEGORY_WORDS",
    "GENESIS",
    "HASHED",
    "MANUAL",
    "Appended",
    "Disclosure",
    "Entry",
    "EventKind",
    "LedgerCheckpoint",
    "LedgerEvent",
    "LedgerFilter",
    "LedgerHead",
    "RecipientKind",
    "Signed",
    "Status",
    "append",
    "batches",
    "browse",
    "event_hash",
    "head",
    "history",
    "row_fields",
    "subject_events",
    "unsettled",
]
