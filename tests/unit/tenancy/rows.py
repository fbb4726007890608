"""Rows and checks the tenancy tests share: clinic A's users, a user row to write through a
wall, and the proof that clinic B was left as it was made."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from praxis.core.accounts.models import User
from praxis.core.booking.models import WeeklyAvailability
from praxis.core.db import utcnow
from praxis.core.runtime import Runtime
from tests.support import Clinic

A_USERNAMES = ["alpha.admin", "alpha.consumer", "alpha.newpro", "alpha.pro"]
B_USERNAMES = [name.replace("alpha", "beta") for name in A_USERNAMES]


def user_row(username: str, tenant_id: uuid.UUID | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "username": username,
        "role": "consumer",
        "full_name": "Written Through A",
        "email": f"{username}@example.org",
        "phone": "+447911123456",
        "address_line1": "1 Road",
        "address_line2": "",
        "town": "Town",
        "postcode": "N1 1AA",
        "country": "GB",
        "password_hash": "x",
        "is_active": True,
        "created_at": utcnow(),
    }
    if tenant_id is not None:
        row["tenant_id"] = tenant_id
    return row


async def usernames(rt: Runtime, tenant_id: uuid.UUID) -> list[str]:
    async with rt.database.reading(tenant_id) as db:
        return sorted(await db.scalars(select(User.username)))


async def b_untouched(rt: Runtime, b: Clinic) -> None:
    async with rt.database.reading(b.tenant.id) as db:
        rows = (await db.execute(select(User.username, User.full_name, User.country))).all()
        weekly = await db.scalar(select(func.count(WeeklyAvailability.id)))
    assert sorted(r.username for r in rows) == B_USERNAMES
    assert {r.full_name for r in rows} == {f"{n.title()} Example" for n in B_USERNAMES}
    assert {r.country for r in rows} == {"GB"}
    assert weekly == 14
