"""Per-tenant data keys for special-category data, each wrapped by the platform key (P06).

Answers and notes are sealed with the tenant's own key; the key is stored only wrapped
(sealed with a key derived from SECRET_KEY). Deleting a tenant's key row makes every copy
of its sealed data, backups included, unreadable.

Unwrapping is cached per process, but the key row is looked up again in every transaction
that uses it (one primary-key read): once a clinic's key is destroyed, every process stops
using it at its next transaction, not when its cache happens to expire (P29).
"""

from __future__ import annotations

import uuid
import weakref
from collections import OrderedDict
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, SessionTransaction, mapped_column

from praxis.core.crypto import Keyring
from praxis.core.db import Base, utcnow
from praxis.core.tenancy import TenantScoped

_PURPOSE = "tenant-data-key"
_CACHED = 512


class TenantDataKey(TenantScoped, Base):
    __tablename__ = "tenant_data_keys"

    wrapped_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataKeyMissing(RuntimeError):
    """The tenant's data key is gone or cannot be unwrapped: its sealed data is unreadable."""


class DataKeys:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        # tenant -> (the wrapped key it was opened from, the opened key)
        self._open: OrderedDict[uuid.UUID, tuple[str, Fernet]] = OrderedDict()
        # The tenants whose key row this transaction has already seen still there.
        self._seen: weakref.WeakKeyDictionary[SessionTransaction, set[uuid.UUID]] = (
            weakref.WeakKeyDictionary()
        )

    async def _fernet(self, db: AsyncSession, tenant_id: uuid.UUID, *, create: bool) -> Fernet:
        transaction = db.sync_session.get_transaction()
        seen = self._seen.setdefault(transaction, set()) if transaction is not None else set()
        found = self._open.get(tenant_id)
        if found is not None and tenant_id in seen:
            return found[1]
        wrapped = await db.scalar(select(TenantDataKey.wrapped_key))
        if wrapped is None:
            self.forget(tenant_id)  # destroyed (or never made): no cached copy may outlive it
            if not create:
                raise DataKeyMissing("this clinic has no data key")
            key = Fernet.generate_key().decode()
            wrapped = self.keyring.seal(_PURPOSE, key)
            db.add(TenantDataKey(wrapped_key=wrapped))
            await db.flush()
        seen.add(tenant_id)
        if found is not None and found[0] == wrapped:
            self._open.move_to_end(tenant_id)
            return found[1]
        opened = self.keyring.unseal(_PURPOSE, wrapped)
        if opened is None:
            raise DataKeyMissing("this clinic's data key cannot be unwrapped")
        fernet = Fernet(opened.encode())
        self._open[tenant_id] = (wrapped, fernet)
        while len(self._open) > _CACHED:
            self._open.popitem(last=False)
        return fernet

    async def seal(self, db: AsyncSession, tenant_id: uuid.UUID, plaintext: str) -> str:
        """Encrypt with the tenant's key, creating it on first use (in the caller's transaction)."""
        fernet = await self._fernet(db, tenant_id, create=True)
        return fernet.encrypt(plaintext.encode()).decode()

    async def unseal(self, db: AsyncSession, tenant_id: uuid.UUID, token: str) -> str:
        fernet = await self._fernet(db, tenant_id, create=False)
        try:
            return fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise DataKeyMissing("sealed with a key this clinic no longer has") from None

    def forget_all(self) -> None:
        """Open every key from the database again on next use."""
        self._open.clear()

    def forget(self, tenant_id: uuid.UUID) -> None:
        self._open.pop(tenant_id, None)
        for seen in list(self._seen.values()):
            seen.discard(tenant_id)
