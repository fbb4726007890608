"""Password hashing with argon2id (memory-hard), through argon2-cffi."""

from __future__ import annotations

from functools import cached_property

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Passwords:
    """``cheap`` exists for the test suite only: same algorithm, smaller cost."""

    def __init__(self, *, cheap: bool = False) -> None:
        params = profiles.CHEAPEST if cheap else profiles.RFC_9106_LOW_MEMORY
        self._hasher = PasswordHasher.from_parameters(params)

    @cached_property
    def _decoy(self) -> str:
        """Verified when a username is unknown, so the answer takes as long either way."""
        return self._hasher.hash("decoy password never used")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
