"""A tenant's ledger, generated fast: a million rows in seconds, shaped like the real thing.

Rows are what the platform writes: bookings shown to a Professional, provider calls as an
attempt and its outcome (``attempt_seq``), Professionals opening answers, consents and
exports, each with the recipient, categories, purpose and legal basis the services give.
``seq`` counts up from 1 and ``recorded_at`` with it, and each row's ``prev_hash`` is the
row before's ``hash``; the hashes themselves are stand-ins (``praxis audit verify`` would
reject this chain), which the subject query never reads.

The same ``PROBES`` subjects, with ``PROBE_EVENTS`` rows each in the same pattern, are in
every ledger generated, scattered over the whole chain; the other rows belong to
``FILLER_SUBJECTS`` other people. So a probe's history is the same work whatever the size.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from praxis.core.ledger import LedgerEvent

# The table's own columns, in its order: the generated tuples follow it.
COLUMNS = tuple(column.name for column in LedgerEvent.__table__.columns)
PROBES = 200
PROBE_EVENTS = 25
FILLER_SUBJECTS = 10_000
PROFESSIONALS = 20
GENESIS = "0" * 64
SPAN = timedelta(days=3 * 365)  # the chain covers three years


@dataclass(frozen=True)
class Event:
    """One kind of ledger event: a single row, or an attempt and its outcome."""

    kind: str
    recipient_kind: str
    recipient: str  # "{pro}" is a Professional's name
    plugin: str
    operation: str
    categories: str
    purpose: str
    legal_basis: str
    outcome: bool  # an attempt followed by its outcome (two rows)


EVENTS = (
    Event(
        "disclosure", "professional", "{pro}", "", "booking", "appointment,name",
        "arrange and provide the booked consultation", "contract", False,
    ),
    Event(
        "disclosure", "processor", "Twilio Ireland Limited", "sms_twilio", "send_sms",
        "appointment,name,phone", "send appointment messages", "contract", True,
    ),
    Event(
        "disclosure", "processor", "Email relay", "email_smtp", "send_email",
        "appointment,email,name", "send appointment messages", "contract", True,
    ),
    Event(
        "disclosure", "processor", "Whereby AS", "video_whereby", "create_meeting",
        "appointment", "hold the video consultation", "contract", True,
    ),
    Event(
        "access", "professional", "{pro}", "", "view_intake_answers",
        "health", "prepare the consultation", "health care (UK GDPR Art. 9(2)(h))", False,
    ),
    Event(
        "consent", "other", "Clinic", "", "consent_given",
        "email", "appointment reminders by email", "consent", False,
    ),
    Event(
        "export", "other", "The person themselves", "", "account_export",
        "address,appointment,email,name,phone", "right of access", "legal obligation", False,
    ),
)  # fmt: skip
WEIGHTS = (30, 15, 15, 10, 20, 7, 3)


def probe_ids() -> list[uuid.UUID]:
    """The probe subjects: the same ids in every generated ledger."""
    return [uuid.UUID(int=(0xBE7C << 112) + n) for n in range(PROBES)]


def _plan(rows: int) -> list[Event]:
    """A probe's events: PROBE_EVENTS rows, the same for every probe."""
    chooser = random.Random(7)
    plan: list[Event] = []
    left = rows
    while left > 0:
        event = chooser.choices(EVENTS, WEIGHTS)[0]
        if event.outcome and left < 2:
            continue
        plan.append(event)
        left -= 2 if event.outcome else 1
    return plan


def rows(
    total: int,
    *,
    tenant_id: Any,
    ident: Callable[[uuid.UUID], Any],
    moment: Callable[[datetime], Any],
    seed: int = 1,
) -> Iterator[tuple[Any, ...]]:
    """Exactly ``total`` rows in chain order, as tuples in COLUMNS order; ``ident`` and
    ``moment`` turn uuids and aware datetimes into what the driver takes."""
    chooser = random.Random(seed)
    plan = _plan(PROBE_EVENTS)
    probes = [ident(p) for p in probe_ids()]
    fillers = [ident(uuid.UUID(int=chooser.getrandbits(128))) for _ in range(FILLER_SUBJECTS)]
    pros = [(ident(uuid.uuid4()), f"Dr Bench {n:02d}") for n in range(PROFESSIONALS)]
    order = _order(total, len(plan), chooser)
    due = [n for n in range(PROBES) for _ in plan]  # which probe the next probe event is
    chooser.shuffle(due)
    done = [0] * PROBES
    start = datetime.now(UTC) - SPAN
    step = SPAN / total
    seq, previous, probe = 0, GENESIS, 0
    for token in order:
        if token == PROBE:
            n = due[probe]
            probe += 1
            subject, event = probes[n], plan[done[n]]
            pro_id, pro_name = pros[(n + done[n]) % PROFESSIONALS]
            done[n] += 1
        else:
            subject, event = chooser.choice(fillers), EVENTS[token]
            pro_id, pro_name = chooser.choice(pros)
        shown = pro_name if event.recipient == "{pro}" else event.recipient
        professional = pro_id if event.recipient_kind == "professional" else None
        actor = pro_id if event.kind == "access" else None
        attempt = None
        for status in ("attempted", "succeeded") if event.outcome else ("recorded",):
            seq += 1
            digest = hashlib.sha256(b"bench-ledger:%d" % seq).hexdigest()
            yield (
                tenant_id,
                seq,
                moment(start + step * seq),
                event.kind,
                status,
                subject,
                actor,
                shown,
                event.recipient_kind,
                professional,
                event.plugin,
                event.operation,
                event.categories,
                event.purpose,
                event.legal_basis,
                f"req-{seq:012x}" if event.plugin else "",
                "",
                attempt,
                previous,
                digest,
            )
            attempt, previous = seq, digest


PROBE = -1  # in the order of events: the next probe event


def _order(total: int, per_probe: int, chooser: random.Random) -> list[int]:
    """The events of the chain in order: PROBE for a probe's next event, else the index of
    a filler event in EVENTS, so that all of them make exactly ``total`` rows."""
    left = total - PROBES * PROBE_EVENTS
    if left < 0:
        raise ValueError(f"a ledger needs at least {PROBES * PROBE_EVENTS} rows for its probes")
    order = [PROBE] * (PROBES * per_probe)
    picks = iter(chooser.choices(range(len(EVENTS)), WEIGHTS, k=left))
    while left > 0:
        token = next(picks, 0)
        if EVENTS[token].outcome and left < 2:
            token = 0  # a single row ends it
        order.append(token)
        left -= 2 if EVENTS[token].outcome else 1
    chooser.shuffle(order)
    return order


def last_hash(total: int) -> str:
    return hashlib.sha256(b"bench-ledger:%d" % total).hexdigest()
