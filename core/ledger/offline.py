"""A clinic's ledger download, verified with no database (``praxis audit verify --file``).

The JSON download carries every entry with its links, the signed checkpoints and the public
key that verifies them, so a clinic's DPO can check that nothing was edited, moved or deleted
up to the last checkpoint, on a machine of their own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from praxis.core.ledger import events as ledger
from praxis.core.ledger.checkpoints import Signed
from praxis.core.ledger.signing import ALGORITHM, PublicKey, SigningKeyError
from praxis.core.ledger.verify import Verdict, Walk, checkpoint_sequence, extends

FORMAT = 1  # the download's layout; a later layout says so in "format"


class UnreadableExport(ValueError):
    """The file is not a whole ledger download; the message says what to do."""


@dataclass(frozen=True)
class Checked:
    verdict: Verdict
    key_id: str  # compare with the fingerprint the platform publishes


def document_header(
    slug: str, tenant_id: uuid.UUID, key: PublicKey, marks: list[Signed], *, complete: bool
) -> dict[str, Any]:
    """Everything a download carries besides its entries."""
    return {
        "format": FORMAT,
        "tenant": slug,
        "tenant_id": str(tenant_id),
        "complete": complete,  # False when filtered: such a download cannot be verified whole
        "public_key": {"algorithm": ALGORITHM, "key": key.text, "key_id": key.key_id},
        "checkpoints": [
            {
                "number": m.number,
                "seq": m.seq,
                "hash": m.hash,
                "signed_at": m.signed_at.isoformat(),
                "signature": m.signature,
            }
            for m in marks
        ],
    }


def _marks(document: dict[str, Any]) -> list[Signed]:
    return [
        Signed(
            int(c["number"]),
            int(c["seq"]),
            str(c["hash"]),
            datetime.fromisoformat(c["signed_at"]),
            str(c["signature"]),
        )
        for c in document.get("checkpoints", [])
    ]


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row.get(name) for name in ledger.HASHED}


def verify_export(document: dict[str, Any], *, pinned: PublicKey | None = None) -> Checked:
    """Check a download: the chain, each checkpoint's signature and sequence, and that the
    chain holds every entry the checkpoints signed. ``pinned``: the key the clinic expects."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise UnreadableExport(
            "this is not a Praxis ledger download (JSON from Admin, Ledger, Download JSON)"
        )
    if not document.get("complete"):
        raise UnreadableExport(
            "this download was filtered: download the whole ledger (no filter) to verify it"
        )
    try:
        tenant_id = uuid.UUID(document["tenant_id"])
        key = PublicKey.from_text(document["public_key"]["key"])
        marks = _marks(document)
        rows = list(document["events"])
    except (KeyError, TypeError, ValueError, SigningKeyError) as exc:
        raise UnreadableExport(f"the download is damaged or incomplete ({exc})") from None
    if pinned is not None and pinned.raw != key.raw:
        raise UnreadableExport(
            f"the download's public key ({key.key_id}) is not the one you gave "
            f"({pinned.key_id}): its checkpoints were not signed by that key"
        )
    walk = Walk(tenant_id, {m.seq for m in marks})
    for row in rows:
        try:
            broken = walk.step(int(row["seq"]), row["prev_hash"], row["hash"], _fields(row))
        except (KeyError, TypeError, ValueError) as exc:
            raise UnreadableExport(f"entry after {walk.count} is damaged ({exc})") from None
        if broken:
            return Checked(Verdict(walk.count, broken), key.key_id)
    broken = checkpoint_sequence(tenant_id, marks, key) or extends(walk, marks)
    if broken:
        return Checked(Verdict(min(walk.count, max(broken.seq - 1, 0)), broken), key.key_id)
    return Checked(Verdict(walk.count, None, walk.previous, len(marks)), key.key_id)
