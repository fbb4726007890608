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
        per_device: str = "5/15 minutes",
        clock: Callable[[], float] = time.time,
    ) -> None:
        storage = storage_from_string(_async_uri(storage_uri))
        assert isinstance(storage, Storage)
        self.clock = clock
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_account = parse(per_account)
        self._per_client = parse(per_client)
        self._per_device = parse(per_device)

    def _keys(
        self, realm: str, username: str, client: str, device: str | None = None
    ) -> list[tuple[RateLimitItem, str]]:
        """The counters an attempt meets: the account's (or, from a browser the account signed
        in with before, that browser's instead) and the client address's."""
        if device is not None:
            mine = hashlib.sha256(f"{realm}\0{username.lower()}\0{device}".encode()).hexdigest()
            first = (self._per_device, "device:" + mine[:32])
        else:
            account = hashlib.sha256(f"{realm}\0{username.lower()}".encode()).hexdigest()[:32]
            first = (self._per_account, "account:" + account)
        origin = hashlib.sha256(f"{realm}\0{client}".encode()).hexdigest()[:32]
        return [first, (self._per_client, "client:" + origin)]

    async def retry_after(
        self, realm: str, username: str, client: str, device: str | None = None
    ) -> int:
        """Seconds until another attempt is allowed; 0 when one is allowed now."""
        wait = 0
        for item, key in self._keys(realm, username, client, device):
            if not await self._limiter.test(item, "login", key):
                stats = await self._limiter.get_window_stats(item, "login", key)
                wait = max(wait, 1, math.ceil(stats.reset_time - self.clock()))
        return wait

    async def failed(
        self, realm: str, username: str, client: str, device: str | None = None
    ) -> None:
        for item, key in self._keys(realm, username, client, device):
            await self._limiter.hit(item, "login", key)

    async def succeeded(self, realm: str, username: str, device: str | None = None) -> None:
        """The right password: the account's counter, and this browser's, start afresh."""
        cleared = [self._keys(realm, username, "")[0]]
        if device is not None:
            cleared.append(self._keys(realm, username, "", device)[0])
        for item, key in cleared:
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
