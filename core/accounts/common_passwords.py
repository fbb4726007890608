"""Refusing common and breached passwords, offline.

zxcvbn ships the 30,000 commonest passwords of public breach corpora; a new password that is
one of them, or that its estimate finds an easy variant of one ("Password123!", "qwertyuiop1"),
is refused with words a person can act on. Nothing is looked up over the network.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

# zxcvbn's score: 0 and 1 fall to an online guessing attack within days; 2 holds up.
LOWEST_SCORE = 2
# zxcvbn reads only this much (its own default): its work grows with the length.
_READ = 72
TOO_COMMON = (
    "This password is one of the most common: it appears in lists of breached passwords, "
    "which attackers try first. Choose another, such as three or four unrelated words."
)
TOO_EASY = (
    "This password is too easy to guess: it is a common word, name, sequence or pattern "
    "with small changes. Choose another, such as three or four unrelated words."
)


@cache
def _breached() -> frozenset[str]:
    words: list[str] = FREQUENCY_LISTS["passwords"]
    return frozenset(words)


def problem(password: str) -> str | None:
    """Why this password must not be used, or None if it may."""
    if password.lower() in _breached():
        return TOO_COMMON
    found: dict[str, Any] = zxcvbn(password[:_READ], max_length=_READ)
    if int(found["score"]) < LOWEST_SCORE:
        return TOO_EASY
    return None
