"""The ORM half of the tenant wall (praxis.core.tenancy.filter): it fails closed, and a session
of tenant A neither reads, changes, deletes nor writes rows of tenant B, whatever shape the
statement has; what it cannot narrow (Core tables, text, INSERT statements) it refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, exists, func, insert, select, text, union_all, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload

from praxis.core.accounts.models import Professional, User, UserSession
from praxis.core.booking.models import WeeklyAvailability
from praxis.core.runtime import Runtime
from praxis.core.tenancy import TenantContextMissing, UnfilterableStatement
from praxis.tenants.models import Tenant
from tests.support import Clinic
from tests.unit.tenancy.rows import A_USERNAMES, B_USERNAMES, b_untouched, user_row, usernames

P27 = pytest.mark.promise("P27")
USERS = User.__table__
# Statements that reach a tenant table; with no tenant in the session each must raise.
TENANT_STATEMENTS: dict[str, Callable[[], Any]] = {
    "entity": lambda: select(User),
    "column": lambda: select(User.username),
    "count from entity": lambda: select(func.count()).select_from(User),
    "core table": lambda: select(USERS),
    "core exists": lambda: select(exists().where(User.username == "alpha.pro")),
    "join to tenant table": lambda: select(Tenant.slug).join(User, User.tenant_id == Tenant.id),
    "subquery": lambda: select(Tenant.slug).where(Tenant.id.in_(select(User.tenant_id))),
    "update": lambda: update(User).values(full_name="X"),
    "delete": lambda: delete(UserSession),
    "insert": lambda: insert(User).values(**user_row("nobody")),
    "text entity": lambda: select(User).from_statement(text("SELECT * FROM users")),
}


@P27
async def test_no_tenant_in_the_session_fails_closed(
    rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with rt.database.writing(None) as db:
        for name, statement in TENANT_STATEMENTS.items():
            with pytest.raises(TenantContextMissing):
                await db.execute(statement())
                pytest.fail(f"{name} ran without a tenant")
        with pytest.raises(TenantContextMissing):
            await db.get(User, (clinic.tenant.id, clinic.consumer.id))
        db.add(User(**user_row("orphan")))
        with pytest.raises(TenantContextMissing):
            await db.flush()
        await db.rollback()
        # Platform tables stay usable without a tenant; text only when it says so.
        assert sorted(await db.scalars(select(Tenant.slug))) == ["alpha", "beta"]
        with pytest.raises(UnfilterableStatement):
            await db.scalar(text("SELECT count(*) FROM users"))
        plain = text("SELECT 1").execution_options(platform_scope=True)
        assert await db.scalar(plain) == 1
    await b_untouched(rt, other_clinic)


@P27
async def test_platform_scope_opts_out_visibly(
    rt: Runtime, backend: str, clinic: Clinic, other_clinic: Clinic
) -> None:
    query = select(func.count()).select_from(User).execution_options(platform_scope=True)
    async with rt.database.reading(None) as db:
        seen = await db.scalar(query)
    # SQLite has only the ORM wall; PostgreSQL's row-level security still shows nothing.
    assert seen == (0 if backend == "postgresql" else 8)


async def _scalars(db: AsyncSession, statement: Any) -> list[Any]:
    return sorted((await db.scalars(statement)).all())


@P27
async def test_a_reads_only_a_whatever_the_shape_of_the_query(
    rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    b_consumer = other_clinic.consumer.id
    both = [*A_USERNAMES, *B_USERNAMES]
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await _scalars(db, select(User.username)) == A_USERNAMES
        assert await db.scalar(select(User).where(User.id == b_consumer)) is None
        assert await db.get(User, (other_clinic.tenant.id, b_consumer)) is None
        assert await db.scalar(select(func.count()).select_from(User)) == 4
        assert await db.scalar(select(func.count(User.id))) == 4
        assert await db.scalar(select(func.count(aliased(User).id))) == 4
        named = select(User.id).where(User.username == "beta.pro").exists()
        assert await db.scalar(select(Tenant.id).where(named)) is None
        named = select(User.id).where(User.username == "alpha.pro").exists()
        assert await db.scalar(select(Tenant.id).where(named)) is not None
        joined = select(Professional.display_name).join(User, User.id == Professional.user_id)
        assert await _scalars(db, joined) == ["Alpha.Newpro Example", "Alpha.Pro Example"]
        sub = select(User.username).where(User.id.in_(select(Professional.user_id)))
        assert await _scalars(db, sub) == ["alpha.newpro", "alpha.pro"]
        platform_join = select(Tenant.slug, User.username).join(User, User.tenant_id == Tenant.id)
        assert {r.slug for r in (await db.execute(platform_join)).all()} == {"alpha"}
        loaded = await db.scalars(select(Professional).options(joinedload(Professional.user)))
        assert sorted(p.user.username for p in loaded) == ["alpha.newpro", "alpha.pro"]
        combined = union_all(select(User.username), select(Professional.display_name))
        names = sorted((await db.execute(combined)).scalars())
        assert not set(names) & {*B_USERNAMES, "Beta.Pro Example", "Beta.Newpro Example"}
        assert set(A_USERNAMES) <= set(names)
        assert both  # B's names exist (the fixture made them), they just are not seen


@P27
async def test_a_cannot_update_or_delete_rows_of_b(
    rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        aimed = update(User).where(User.id == other_clinic.consumer.id).values(full_name="X")
        assert (await db.execute(aimed)).rowcount == 0
        everyone = await db.execute(update(User).values(country="FR"))
        assert everyone.rowcount == 4
        gone = await db.execute(
            delete(WeeklyAvailability).where(
                WeeklyAvailability.professional_id == other_clinic.professional_id
            )
        )
        assert gone.rowcount == 0
        assert (await db.execute(delete(WeeklyAvailability))).rowcount == 14
        await db.commit()
    async with rt.database.reading(clinic.tenant.id) as db:
        assert set(await db.scalars(select(User.country))) == {"FR"}
        assert await db.scalar(select(func.count(WeeklyAvailability.id))) == 0
    await b_untouched(rt, other_clinic)


@P27
async def test_a_cannot_write_rows_of_b_or_move_its_rows_to_b(
    rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    a, b = clinic.tenant.id, other_clinic.tenant.id
    attempts: dict[str, Callable[[], Any]] = {
        "insert values": lambda: insert(User).values(**user_row("in1", b)),
        "insert rows": lambda: insert(User).values([user_row("in2", b)]),
        "insert of a's own": lambda: insert(User).values(**user_row("in2a", a)),
        "core insert": lambda: insert(USERS).values(**user_row("in3", b)),
        "core select": lambda: select(USERS.c.username),
        "core exists": lambda: select(exists().where(User.username == "beta.pro")),
        "core update": lambda: update(USERS).values(full_name="X"),
        "core delete": lambda: delete(USERS),
        "insert from select": lambda: insert(User).from_select(
            ["tenant_id", "id"], select(User.tenant_id, User.id)
        ),
    }
    async with rt.database.writing(a) as db:
        for name, statement in attempts.items():
            with pytest.raises(UnfilterableStatement):
                await db.execute(statement())
                pytest.fail(f"{name} was not refused")
        with pytest.raises(UnfilterableStatement):
            await db.execute(insert(User), [user_row("in4", a), user_row("in5", b)])
        with pytest.raises(TenantContextMissing):
            await db.execute(update(User), [{"tenant_id": b, "id": other_clinic.consumer.id}])
        await db.rollback()
        with pytest.raises(DBAPIError, match="cannot move to another tenant"):
            await db.execute(update(User).values(tenant_id=b))  # the database refuses it
        await db.rollback()
        with pytest.raises(UnfilterableStatement):
            await db.execute(select(User).from_statement(text("SELECT * FROM users")))
        db.add(User(**user_row("in6", b)))
        with pytest.raises(TenantContextMissing):
            await db.flush()
        await db.rollback()
        mine = await db.get(User, (a, clinic.consumer.id))
        assert mine is not None
        mine.tenant_id = b
        with pytest.raises(TenantContextMissing):
            await db.flush()
        await db.rollback()
    await b_untouched(rt, other_clinic)
    assert await usernames(rt, a) == A_USERNAMES


@P27
async def test_rows_written_without_a_tenant_id_get_the_sessions(
    rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        db.add(User(**user_row("new1")))
        db.add_all([User(**user_row("new2")), User(**user_row("new3", clinic.tenant.id))])
        await db.commit()
    made = ["new1", "new2", "new3"]
    assert await usernames(rt, clinic.tenant.id) == sorted([*A_USERNAMES, *made])
    await b_untouched(rt, other_clinic)
