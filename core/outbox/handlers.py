"""Outbox job handlers: one async function per topic, each run in its job's tenant.

Handlers are registered with ``@handles("topic")`` by the domain that owns the work; they
must be idempotent (delivery is at least once) and must not hold a write transaction open
while calling a provider (the facade writes the ledger in transactions of its own).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.config import Settings
from praxis.core.crypto import Keyring
from praxis.core.db import utcnow
from praxis.core.outbox.queue import RetryPolicy, finish
from praxis.core.plugins.facade import Facade
from praxis.core.tenancy import Database
from praxis.tenants.directory import TenantInfo

Handler = Callable[["Job"], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}


def handles(topic: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if topic in HANDLERS and HANDLERS[topic] is not handler:
            raise RuntimeError(f"two handlers for outbox topic {topic}")
        HANDLERS[topic] = handler
        return handler

    return register


@dataclass(frozen=True)
class JobServices:
    """What running jobs needs, and all a handler may use: built once per process."""

    database: Database
    settings: Settings
    keyring: Keyring
    retry_policy: RetryPolicy
    providers: Callable[[TenantInfo], Facade]  # a tenant's providers, every call recorded
    concurrency: int = 8  # jobs one worker runs at once (half of them at most per clinic)


@dataclass
class Job:
    """What a handler gets: the job, its tenant, and short transactions of its own."""

    services: JobServices
    tenant: TenantInfo
    id: uuid.UUID
    topic: str
    payload: dict[str, Any]
    attempt: int
    now: datetime = field(default_factory=utcnow)
    created_at: datetime | None = None  # when the job was written: nothing it did is older
    finished: bool = False

    @property
    def key(self) -> str:
        """The idempotency key providers get: the same on every attempt of this job."""
        return str(self.id)

    @property
    def providers(self) -> Facade:
        return self.services.providers(self.tenant)

    @property
    def keyring(self) -> Keyring:
        return self.services.keyring

    @property
    def site_url(self) -> str:
        """The clinic's public address, for links in messages."""
        return self.services.settings.site_url(self.tenant.slug)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self.services.database.reading(self.tenant.id) as db:
            yield db

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        async with self.services.database.writing(self.tenant.id) as db:
            yield db

    async def done(self, db: AsyncSession) -> None:
        """Mark the job done in ``db``'s transaction, so it commits with the job's effect."""
        await finish(db, self.id, now=utcnow(), attempt=self.attempt)
        self.finished = True
