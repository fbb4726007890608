"""Per-tenant data keys (P06) and their destruction (P29): once a clinic's key row is gone,
no process may go on unsealing with a copy it had cached."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from praxis.core.datakeys import DataKeyMissing, TenantDataKey
from praxis.core.runtime import Runtime, build_runtime
from tests.support import Clinic


@pytest.mark.promise("P29")
async def test_a_destroyed_key_stops_working_at_once_in_every_process(
    rt: Runtime, clinic: Clinic
) -> None:
    tenant_id = clinic.tenant.id
    other = build_runtime(rt.settings)  # a second process on the same database
    try:
        async with rt.database.writing(tenant_id) as db:
            token = await rt.data_keys.seal(db, tenant_id, "Trouble sleeping")
            await db.commit()
        # The other process opens the key and caches it, as a busy server would.
        async with other.database.reading(tenant_id) as db:
            assert await other.data_keys.unseal(db, tenant_id, token) == "Trouble sleeping"
        assert tenant_id in other.data_keys._open

        async with rt.database.writing(tenant_id) as db:  # the purge destroys the key
            await db.execute(delete(TenantDataKey))
            await db.commit()
        rt.data_keys.forget(tenant_id)

        async with other.database.reading(tenant_id) as db:
            with pytest.raises(DataKeyMissing):
                await other.data_keys.unseal(db, tenant_id, token)
        assert tenant_id not in other.data_keys._open  # and its cached copy is dropped
        async with rt.database.reading(tenant_id) as db:
            with pytest.raises(DataKeyMissing):
                await rt.data_keys.unseal(db, tenant_id, token)
    finally:
        await other.close()


@pytest.mark.promise("P06")
async def test_a_new_key_made_elsewhere_replaces_a_cached_one(rt: Runtime, clinic: Clinic) -> None:
    """A key replaced by another process is not confused with the one cached here: what the
    new key sealed opens, what the old one sealed does not."""
    tenant_id = clinic.tenant.id
    other = build_runtime(rt.settings)
    try:
        async with rt.database.writing(tenant_id) as db:
            old = await rt.data_keys.seal(db, tenant_id, "first")
            await db.commit()
        async with other.database.writing(tenant_id) as db:
            await db.execute(delete(TenantDataKey))
            new = await other.data_keys.seal(db, tenant_id, "second")
            await db.commit()
        async with rt.database.reading(tenant_id) as db:
            assert await rt.data_keys.unseal(db, tenant_id, new) == "second"
            with pytest.raises(DataKeyMissing):
                await rt.data_keys.unseal(db, tenant_id, old)
    finally:
        await other.close()
