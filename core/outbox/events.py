"""Domain events: one domain says what happened, others decide what follows.

A domain declares its events (``Event``, with the payload each carries) and announces one in
the transaction of the change (``announce``). Other domains ``@subscribe`` without the
announcing domain knowing them: booking confirms an appointment, and notifications, video and
payments each add what follows. Subscribers run at once, in the announcer's transaction: they
may read and write rows through ``db`` and ask for outbox jobs (``Happened.follow_with``),
never call a provider. Their jobs are returned for the announcer to write with its change, so
what follows commits, or not, with what caused it.

Subscribers register when their module is imported; ``praxis.core.wiring`` imports every one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.outbox.queue import job_row
from praxis.tenants.directory import TenantInfo


@dataclass(frozen=True)
class Event:
    """A kind of thing that happens in one domain; ``payload`` names the keys it carries."""

    name: str
    description: str
    payload: tuple[str, ...]


@dataclass
class Happened:
    """What a subscriber is told: the event, its clinic, its payload and when."""

    event: Event
    tenant: TenantInfo
    payload: dict[str, Any]
    now: datetime
    jobs: list[dict[str, Any]] = field(default_factory=list)

    def follow_with(self, topic: str, payload: dict[str, Any]) -> None:
        """Ask for an outbox job, written with the change that announced the event."""
        self.jobs.append(job_row(self.tenant.id, topic, payload))


Subscriber = Callable[[AsyncSession, Happened], Awaitable[None]]
SUBSCRIBERS: dict[str, list[Subscriber]] = {}


def subscribe(event: Event) -> Callable[[Subscriber], Subscriber]:
    def register(subscriber: Subscriber) -> Subscriber:
        found = SUBSCRIBERS.setdefault(event.name, [])
        if subscriber not in found:
            found.append(subscriber)
        return subscriber

    return register


async def announce(
    db: AsyncSession, tenant: TenantInfo, event: Event, *, now: datetime, **payload: Any
) -> list[dict[str, Any]]:
    """Tell every subscriber, in the caller's transaction. Returns the outbox rows they asked
    for: write them in the same transaction (``outbox.add_jobs``)."""
    if set(payload) != set(event.payload):
        raise TypeError(f"{event.name} carries exactly {', '.join(event.payload)}")
    happened = Happened(event, tenant, payload, now)
    for subscriber in SUBSCRIBERS.get(event.name, ()):
        await subscriber(db, happened)
    return happened.jobs
