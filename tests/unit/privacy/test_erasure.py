"""praxis.core.privacy.erasure and closing, called as the pages call them: erasing is
idempotent, only a consumer's account is closed here, the password is asked again, and the
erased row keeps nothing that names the person (P33)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.models import User
from praxis.core.consents import services as consents
from praxis.core.consents.kinds import MARKETING_EMAIL, Method
from praxis.core.consents.models import ConsentRecord
from praxis.core.db import utcnow
from praxis.core.errors import InvalidInput, NotAllowed
from praxis.core.ledger import LedgerEvent
from praxis.core.privacy import erasure, export
from praxis.core.privacy.closing import check_password, close_account
from praxis.core.privacy.models import DataExport
from praxis.core.runtime import Runtime
from tests.support import PASSWORD, Clinic


async def load(db: AsyncSession, user_id: uuid.UUID) -> User:
    found = await db.scalar(select(User).where(User.id == user_id))
    assert found is not None
    return found


@pytest.mark.promise("P33")
async def test_erasing_twice_changes_nothing_more(rt: Runtime, clinic: Clinic) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        user = await load(db, clinic.consumer.id)
        first = await erasure.erase(db, clinic.tenant, user, now=utcnow(), actor_id=user.id)
        await db.commit()
        entries = len(list(await db.scalars(select(LedgerEvent))))
        again = await erasure.erase(db, clinic.tenant, user, now=utcnow(), actor_id=user.id)
        await db.commit()
        assert len(list(await db.scalars(select(LedgerEvent)))) == entries
    assert again.pseudonym == first.pseudonym and erasure.is_erased(user)
    for field in ("full_name", "username"):
        assert clinic.consumer.username not in getattr(user, field)


async def test_only_a_consumers_account_is_closed_here(rt: Runtime, clinic: Clinic) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        admin = await load(db, clinic.admin.id)
        with pytest.raises(NotAllowed):
            await close_account(db, clinic.tenant, admin, now=utcnow(), by=admin.id)
        with pytest.raises(NotAllowed):
            await erasure.erase(db, clinic.tenant, admin, now=utcnow(), actor_id=admin.id)
        assert (await load(db, clinic.admin.id)).is_active


async def test_the_password_is_asked_again(rt: Runtime, clinic: Clinic) -> None:
    async with rt.database.reading(clinic.tenant.id) as db:
        user = await load(db, clinic.consumer.id)
    await check_password(rt.passwords, user, PASSWORD)
    for wrong in ("", "nearly-" + PASSWORD):
        with pytest.raises(InvalidInput) as refused:
            await check_password(rt.passwords, user, wrong)
        assert set(refused.value.fields) == {"password"}


def test_pseudonyms_do_not_repeat_and_fit_a_username() -> None:
    names = {erasure.new_pseudonym() for _ in range(200)}
    assert len(names) == 200
    assert all(n.startswith("erased-") and len(n) <= 32 for n in names)


@pytest.mark.promise("P33")
async def test_erasure_leaves_no_data_download_consent_or_proxy_authority(
    rt: Runtime, clinic: Clinic
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        user = await load(db, clinic.consumer.id)
        whose = consents.Whose(user.id, address=user.email)
        given = await consents.record(
            db, MARKETING_EMAIL, whose, given=True, method=Method.PORTAL, clinic=clinic.tenant.name
        )
        await export.request(db, clinic.tenant, user)
        await db.commit()
        assert given and await db.scalar(select(DataExport.id)) is not None
        await erasure.erase(db, clinic.tenant, user, now=utcnow(), actor_id=user.id)
        await db.commit()
        assert await db.scalar(select(DataExport.id)) is None
        records = list(await db.scalars(select(ConsentRecord)))
    assert records == []
