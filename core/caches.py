"""What a process keeps for a moment so a page read by many is computed once, not per visitor.

Each app's Runtime owns its own (``Runtime.pages``): two apps in one process never share them.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    value: V
    expires: float  # on the monotonic clock
    stale_at: datetime | None  # a time the value speaks of has passed: computed again


class Kept(Generic[V]):
    """Values kept ``seconds`` each, at most ``size`` of them, the oldest dropped first."""

    def __init__(self, *, seconds: float, size: int) -> None:
        self.seconds = seconds
        self.size = size
        self._kept: OrderedDict[Hashable, _Entry[V]] = OrderedDict()

    def get(self, key: Hashable, now: datetime) -> V | None:
        found = self._kept.get(key)
        if found is None:
            return None
        passed = found.stale_at is not None and now > found.stale_at
        if passed or found.expires <= time.monotonic():
            del self._kept[key]
            return None
        return found.value

    def put(self, key: Hashable, value: V, *, stale_at: datetime | None = None) -> None:
        self._kept[key] = _Entry(value, time.monotonic() + self.seconds, stale_at)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def clear(self) -> None:
        self._kept.clear()


class Refreshed(Generic[V]):
    """One value for everyone, computed again once ``period`` has passed since it was taken
    (or once a time it speaks of has passed), one computation at a time: while one runs, the
    others serve the value before it if that is still usable, or wait for the new one."""

    def __init__(self, *, period: timedelta) -> None:
        self.period = period
        self._value: V | None = None
        self._taken: datetime | None = None
        self._stale_at: datetime | None = None
        self._computing = asyncio.Lock()

    def _usable(self, now: datetime) -> bool:
        return self._value is not None and (self._stale_at is None or now <= self._stale_at)

    def _fresh(self, now: datetime) -> bool:
        return self._usable(now) and self._taken is not None and now - self._taken < self.period

    async def get(
        self,
        now: datetime,
        compute: Callable[[datetime], Awaitable[V]],
        *,
        stale_at: Callable[[V], datetime | None] = lambda _: None,
    ) -> V:
        if self._fresh(now) or (self._computing.locked() and self._usable(now)):
            return self._current()
        async with self._computing:
            if self._fresh(now):  # computed while this one waited
                return self._current()
            value = await compute(now)
            self._value, self._taken, self._stale_at = value, now, stale_at(value)
            return value

    def _current(self) -> V:
        assert self._value is not None
        return self._value

    def forget(self) -> None:
        self._value = self._taken = self._stale_at = None
