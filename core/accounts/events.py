"""What happens to an account that other domains act on.

Declared here, below the domains that announce and follow them: privacy erases a person and
notifications asks the SMS provider to erase the texts it sent them, neither knowing the other
(``praxis.core.outbox.events``).
"""

from __future__ import annotations

from praxis.core.outbox import Event

PERSON_ERASED = Event(
    "person.erased",
    "A consumer's personal data was erased (P33); ``subject_id`` is their account's id, kept "
    "by the pseudonymous tombstone. Each job a subscriber asks for is one message a provider "
    "is asked to erase through the facade: the erasure's ledger entry counts them.",
    ("subject_id",),
)
