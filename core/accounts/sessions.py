"""Server-side sessions: random tokens, idle and absolute timeouts, real logout.

Tenant accounts and platform operators keep sessions in separate tables (one is
tenant-scoped, the other is not); one store class serves both.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.models import Operator, OperatorSession, User, UserSession
from praxis.core.crypto import token_digest
from praxis.core.db import utcnow

# Writing last_seen on every request would turn reads into writes; a minute is precise enough.
TOUCH_AFTER = timedelta(seconds=60)

Row = TypeVar("Row", UserSession, OperatorSession)
Owner = TypeVar("Owner", User, Operator)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


@dataclass
class Signed(Generic[Row, Owner]):
    """A live session and whoever it belongs to."""

    row: Row
    owner: Owner

    @property
    def needs_touch(self) -> bool:
        return utcnow() - self.row.last_seen_at >= TOUCH_AFTER


def new_token() -> str:
    return secrets.token_urlsafe(32)


class _SessionStore(Generic[Row, Owner]):
    row_model: type[Row]
    owner_model: type[Owner]

    def __init__(self, policy: SessionPolicy) -> None:
        self.policy = policy
        # Built once: every signed-in request runs it, and building it cost a tenth of it.
        self._lookup: Any = (
            select(self.row_model, self.owner_model)
            .join(self.owner_model, self._join())
            .where(self.row_model.token_hash == bindparam("digest"))
        )

    def _owner_column(self) -> Any:
        raise NotImplementedError

    def _join(self) -> ColumnElement[bool]:
        raise NotImplementedError

    async def start(
        self,
        db: AsyncSession,
        owner: Owner,
        *,
        mfa_pending: bool,
        second_factor_by_provider: bool = False,
    ) -> str:
        """A new session; ``second_factor_by_provider`` only when the sign-in provider's ID
        token asserted MFA (it then stands in for our two-step for this session alone)."""
        token = new_token()
        now = utcnow()
        row = self.row_model(
            token_hash=token_digest(token),
            mfa_pending=mfa_pending,
            second_factor_by_provider=second_factor_by_provider,
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.policy.absolute,
        )
        setattr(row, self._owner_column().key, owner.id)
        db.add(row)
        await db.flush()
        return token

    async def load(self, db: AsyncSession, token: str) -> Signed[Row, Owner] | None:
        found = (await db.execute(self._lookup, {"digest": token_digest(token)})).first()
        if found is None:
            return None
        row, owner = found
        now = utcnow()
        if row.expires_at <= now or row.last_seen_at + self.policy.idle <= now:
            return None
        return Signed(row, owner) if owner.is_active else None

    async def touch(self, db: AsyncSession, token: str) -> None:
        await db.execute(
            update(self.row_model)
            .where(self.row_model.token_hash == token_digest(token))
            .values(last_seen_at=utcnow())
        )

    async def end(self, db: AsyncSession, token: str) -> None:
        digest = token_digest(token)
        await db.execute(delete(self.row_model).where(self.row_model.token_hash == digest))

    async def end_all(self, db: AsyncSession, owner_id: uuid.UUID) -> None:
        await db.execute(delete(self.row_model).where(self._owner_column() == owner_id))

    async def end_others(self, db: AsyncSession, owner_id: uuid.UUID, keep: str | None) -> None:
        """End every session of the owner but this one (after a change of credentials)."""
        query = delete(self.row_model).where(self._owner_column() == owner_id)
        if keep is not None:
            query = query.where(self.row_model.token_hash != token_digest(keep))
        await db.execute(query)

    async def count(self, db: AsyncSession, owner_id: uuid.UUID) -> int:
        query = select(func.count()).select_from(self.row_model)
        return int(await db.scalar(query.where(self._owner_column() == owner_id)) or 0)

    async def purge_expired(self, db: AsyncSession) -> None:
        now = utcnow()
        stale = (self.row_model.expires_at <= now) | (
            self.row_model.last_seen_at <= now - self.policy.idle
        )
        await db.execute(delete(self.row_model).where(stale))


class UserSessions(_SessionStore[UserSession, User]):
    """Sessions of tenant accounts (the tenant filter scopes every query)."""

    row_model = UserSession
    owner_model = User

    def _owner_column(self) -> Any:
        return UserSession.user_id

    def _join(self) -> ColumnElement[bool]:
        return (User.id == UserSession.user_id) & (User.tenant_id == UserSession.tenant_id)


class OperatorSessions(_SessionStore[OperatorSession, Operator]):
    """Sessions of platform operators (platform tables, no tenant)."""

    row_model = OperatorSession
    owner_model = Operator

    def _owner_column(self) -> Any:
        return OperatorSession.operator_id

    def _join(self) -> ColumnElement[bool]:
        return Operator.id == OperatorSession.operator_id
