"""Sign-in throttling and lockout through the `limits` library (memory or Redis)."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


def _async_uri(uri: str) -> str:
    return uri if uri.startswith("async+") else "async+" + uri


class LoginThrottle:
    """Counts failed sign-ins per account and per client; blocks both beyond their limits.

    Any username is counted, existing or not, so a lockout reveals nothing. ``clock`` tells
    the time a lockout is measured against (tests pass a fake one; the memory storage of
    ``limits`` reads ``time.time`` itself, so such a test moves that one too).
    """

    def __init__(
        self,
        storage_uri: str,
        *,
        per_account: str,
        per_client: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        storage = storage_from_string(_async_uri(storage_uri))
        assert isinstance(storage, Storage)
        self.clock = clock
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_account = parse(per_account)
        self._per_client = parse(per_client)

    def _keys(self, realm: str, username: str, client: str) -> list[tuple[RateLimitItem, str]]:
        account = hashlib.sha256(f"{realm}\0{username.lower()}".encode()).hexdigest()[:32]
        origin = hashlib.sha256(f"{realm}\0{client}".encode()).hexdigest()[:32]
        return [(self._per_account, "account:" + account), (self._per_client, "client:" + origin)]

    async def retry_after(self, realm: str, username: str, client: str) -> int:
        """Seconds until another attempt is allowed; 0 when one is allowed now."""
        wait = 0
        for item, key in self._keys(realm, username, client):
            if not await self._limiter.test(item, "login", key):
                stats = await self._limiter.get_window_stats(item, "login", key)
                wait = max(wait, 1, math.ceil(stats.reset_time - self.clock()))
        return wait

    async def failed(self, realm: str, username: str, client: str) -> None:
        for item, key in self._keys(realm, username, client):
            await self._limiter.hit(item, "login", key)

    async def succeeded(self, realm: str, username: str) -> None:
        item, key = self._keys(realm, username, "")[0]
        await self._limiter.clear(item, "login", key)

    async def forget(self, realm: str, username: str, client: str) -> None:
        """Clear both counters of one attempt's keys (an unlock), leaving all others."""
        for item, key in self._keys(realm, username, client):
            await self._limiter.clear(item, "login", key)

    async def close(self) -> None:
        """Close the storage's connections (Redis); a memory storage has none."""
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        pool = getattr(client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()

    async def reset(self) -> None:
        """Clear every counter in the storage: for a storage of one's own only."""
        await self._storage.reset()
