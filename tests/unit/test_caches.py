"""Pages kept a moment (core/caches.py): how long, until which time, one computation at a time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from praxis.core.caches import Kept, Refreshed

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Counted:
    """A computation that says how often it ran, and may be held until released."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, at: datetime) -> str:
        self.runs += 1
        await self.release.wait()
        return f"read at {at:%H:%M:%S} (#{self.runs})"


async def test_a_value_is_reused_within_its_period_and_read_again_after() -> None:
    kept: Refreshed[str] = Refreshed(period=timedelta(seconds=30))
    read = Counted()
    assert await kept.get(NOW, read) == "read at 09:00:00 (#1)"
    assert await kept.get(NOW + timedelta(seconds=29), read) == "read at 09:00:00 (#1)"
    assert await kept.get(NOW + timedelta(seconds=30), read) == "read at 09:00:30 (#2)"
    kept.forget()
    assert await kept.get(NOW + timedelta(seconds=31), read) == "read at 09:00:31 (#3)"


async def test_a_value_speaking_of_a_time_now_gone_is_read_again_before_its_period() -> None:
    kept: Refreshed[str] = Refreshed(period=timedelta(minutes=10))
    read = Counted()
    until = NOW + timedelta(minutes=2)
    await kept.get(NOW, read, stale_at=lambda _: until)
    assert await kept.get(until, read, stale_at=lambda _: None) == "read at 09:00:00 (#1)"
    later = until + timedelta(seconds=1)
    assert await kept.get(later, read, stale_at=lambda _: None) == "read at 09:02:01 (#2)"


async def test_visitors_arriving_together_wait_for_one_computation() -> None:
    kept: Refreshed[str] = Refreshed(period=timedelta(seconds=30))
    read = Counted()
    read.release.clear()
    visitors = [asyncio.create_task(kept.get(NOW, read)) for _ in range(5)]
    await asyncio.sleep(0)
    read.release.set()
    assert set(await asyncio.gather(*visitors)) == {"read at 09:00:00 (#1)"}
    assert read.runs == 1


async def test_while_one_reads_again_the_others_are_served_the_value_before() -> None:
    kept: Refreshed[str] = Refreshed(period=timedelta(seconds=30))
    read = Counted()
    await kept.get(NOW, read)
    read.release.clear()
    later = NOW + timedelta(seconds=40)
    reading = asyncio.create_task(kept.get(later, read))
    await asyncio.sleep(0)
    assert await kept.get(later, read) == "read at 09:00:00 (#1)"  # no second computation
    read.release.set()
    assert await reading == "read at 09:00:40 (#2)"
    assert read.runs == 2


async def test_while_one_reads_again_nobody_is_served_a_time_gone() -> None:
    kept: Refreshed[str] = Refreshed(period=timedelta(seconds=30))
    read = Counted()
    await kept.get(NOW, read, stale_at=lambda _: NOW + timedelta(seconds=5))
    read.release.clear()
    later = NOW + timedelta(seconds=10)
    reading = asyncio.create_task(kept.get(later, read))
    waiting = asyncio.create_task(kept.get(later, read))
    await asyncio.sleep(0)
    assert not waiting.done()  # it waits for the new value
    read.release.set()
    assert await reading == await waiting == "read at 09:00:10 (#2)"


def test_kept_values_go_when_their_time_passes_or_room_runs_out() -> None:
    weeks: Kept[str] = Kept(seconds=60, size=2)
    weeks.put("a", "week a", stale_at=NOW + timedelta(hours=1))
    weeks.put("b", "week b")
    assert weeks.get("a", NOW) == "week a"
    assert weeks.get("a", NOW + timedelta(hours=1, seconds=1)) is None  # and it is dropped
    assert weeks.get("a", NOW) is None
    weeks.put("c", "week c")
    weeks.put("d", "week d")
    assert weeks.get("b", NOW) is None and weeks.get("d", NOW) == "week d"  # oldest first
    expired: Kept[str] = Kept(seconds=0, size=2)
    expired.put("a", "week a")
    assert expired.get("a", NOW) is None
    weeks.clear()
    assert weeks.get("d", NOW) is None
