"""Sessions: each belongs to one tenant (or, visibly, to the platform) for its whole life.

The raw connection under a session would walk around the wall, so asking for it raises;
``run`` (``statements.py``) is the one way to a session's connection.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from praxis.core.db import WRITE_OPTION
from praxis.core.tenancy.errors import RawConnectionRefused

PLATFORM_SCOPE = "platform_scope"  # execution option: this statement reads across tenants
_REFUSED = (
    "a session's raw connection walks around the tenant wall: use the models, or a "
    "TenantStatement through praxis.core.tenancy.run"
)


class PraxisSession(Session):
    """The sync session under WalledSession; carries the tenant in ``info``."""

    _connection_allowed = False

    def connection(self, *args: Any, **kwargs: Any) -> Any:
        if not self._connection_allowed:
            raise RawConnectionRefused(_REFUSED)
        return super().connection(*args, **kwargs)


class WalledSession(AsyncSession):
    """An AsyncSession whose connection only ``praxis.core.tenancy.run`` may use."""

    sync_session: PraxisSession

    async def connection(self, *args: Any, **kwargs: Any) -> AsyncConnection:
        raise RawConnectionRefused(_REFUSED)

    async def _walled_connection(self) -> AsyncConnection:
        sync = self.sync_session
        sync._connection_allowed = True
        try:
            return await super().connection()
        finally:
            sync._connection_allowed = False


def session_tenant(session: Session) -> uuid.UUID | None:
    tenant_id: uuid.UUID | None = session.info.get("tenant_id")
    return tenant_id


class Database:
    """The engine plus factories for tenant and platform sessions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def session(self, tenant_id: uuid.UUID | None = None, *, write: bool = False) -> WalledSession:
        return WalledSession(
            self.engine,
            sync_session_class=PraxisSession,
            expire_on_commit=False,
            info={"tenant_id": tenant_id},
            execution_options={WRITE_OPTION: True} if write else {},
        )

    @asynccontextmanager
    async def reading(self, tenant_id: uuid.UUID | None = None) -> AsyncIterator[WalledSession]:
        async with self.session(tenant_id) as db:
            yield db

    @asynccontextmanager
    async def writing(self, tenant_id: uuid.UUID | None = None) -> AsyncIterator[WalledSession]:
        """A session whose transaction takes the write lock at BEGIN (SQLite)."""
        async with self.session(tenant_id, write=True) as db:
            yield db

    async def ping(self) -> None:
        """One round trip to the database (health checks); raises if it does not answer."""
        async with self.engine.connect() as connection:
            await connection.execute(select(literal(1)))

    async def dispose(self) -> None:
        await self.engine.dispose()
