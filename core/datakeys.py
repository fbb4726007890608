"""Per-tenant data keys for special-category data, each wrapped by the platform key (P06).

Answers and notes are sealed with the tenant's own key; the key is stored only wrapped
(sealed with a key derived from SECRET_KEY). Deleting a tenant's key row makes every copy
of its sealed data, backups included, unreadable.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

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
        self._open: OrderedDict[uuid.UUID, Fernet] = OrderedDict()

    async def _fernet(self, db: AsyncSession, tenant_id: uuid.UUID, *, create: bool) -> Fernet:
        found = self._open.get(tenant_id)
        if found is not None:
            return found
        row = await db.scalar(select(TenantDataKey))
        if row is None:
            if not create:
                raise DataKeyMissing("this clinic has no data key")
            key = Fernet.generate_key().decode()
            row = TenantDataKey(wrapped_key=self.keyring.seal(_PURPOSE, key))
            db.add(row)
            await db.flush()
        opened = self.keyring.unseal(_PURPOSE, row.wrapped_key)
        if opened is None:
            raise DataKeyMissing("this clinic's data key cannot be unwrapped")
        fernet = Fernet(opened.encode())
        self._open[tenant_id] = fernet
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

    def forget(self, tenant_id: uuid.UUID) -> None:
        self._open.pop(tenant_id, None)
