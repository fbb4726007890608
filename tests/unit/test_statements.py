"""Prebuilt Core statements (core.statements): run only when narrowed to the tenant, always
bound to the session's own tenant, and refused otherwise, as the ORM wall refuses."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import bindparam, func, insert, or_, select, update

from praxis.core.accounts.models import Professional, User
from praxis.core.booking.models import WeeklyAvailability
from praxis.core.db import TenantContextMissing, UnfilterableStatement, table_of
from praxis.core.runtime import Runtime
from praxis.core.statements import TENANT, check, run
from tests.support import Clinic
from tests.unit.test_tenant_filter import A_USERNAMES, b_untouched, user_row

P27 = pytest.mark.promise("P27")
USERS = table_of(User)
PROS = table_of(Professional)
WEEKLY = table_of(WeeklyAvailability)

NAMES = select(USERS.c.username).where(USERS.c.tenant_id == TENANT).order_by(USERS.c.username)
ONE = select(USERS.c.username).where(USERS.c.tenant_id == TENANT, USERS.c.id == bindparam("id"))
ADD_USER = insert(USERS)
RENAME = update(USERS).where(USERS.c.tenant_id == TENANT).values(full_name=bindparam("name"))


@P27
@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(select(USERS.c.username), id="no tenant predicate"),
        pytest.param(
            select(USERS.c.username).where(USERS.c.tenant_id == uuid.uuid4()), id="a fixed tenant"
        ),
        pytest.param(
            select(USERS.c.username).where(
                or_(USERS.c.tenant_id == TENANT, USERS.c.id.is_not(None))
            ),
            id="predicate inside an OR",
        ),
        pytest.param(
            select(PROS.c.display_name)
            .join(USERS, USERS.c.id == PROS.c.user_id)
            .where(PROS.c.tenant_id == TENANT),
            id="joined table not narrowed",
        ),
        pytest.param(
            select(USERS.c.username).where(
                USERS.c.tenant_id == TENANT, USERS.c.id.in_(select(PROS.c.user_id))
            ),
            id="subquery not narrowed",
        ),
        pytest.param(update(USERS).values(full_name="X"), id="update everyone"),
        pytest.param(
            update(USERS).where(USERS.c.tenant_id == TENANT).values(tenant_id=uuid.uuid4()),
            id="update moving rows to another tenant",
        ),
        pytest.param(insert(USERS).values(tenant_id=uuid.uuid4()), id="insert with inline values"),
        pytest.param(
            insert(WEEKLY).from_select(
                ["tenant_id", "id", "professional_id", "weekday", "starts_at", "ends_at"],
                select(WEEKLY).where(WEEKLY.c.tenant_id == TENANT),
            ),
            id="insert from select",
        ),
    ],
)
def test_a_statement_not_narrowed_to_the_tenant_is_refused(statement: Any) -> None:
    with pytest.raises(UnfilterableStatement):
        check(statement)


@P27
def test_narrowed_statements_pass_the_check() -> None:
    joined = (
        select(PROS.c.display_name)
        .join(USERS, USERS.c.id == PROS.c.user_id)
        .where(PROS.c.tenant_id == TENANT, USERS.c.tenant_id == TENANT)
    )
    for statement in (NAMES, ONE, ADD_USER, RENAME, joined):
        check(statement)


@P27
async def test_run_reads_and_changes_only_the_sessions_tenant(
    rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        assert [r.username for r in await run(db, NAMES)] == A_USERNAMES
        b_consumer = other_clinic.consumer.id
        assert (await run(db, ONE, {"id": b_consumer})).first() is None
        # A caller's own tenant id never replaces the session's.
        aimed = {"id": b_consumer, "current_tenant_id": other_clinic.tenant.id}
        assert (await run(db, ONE, aimed)).first() is None
        assert (await run(db, RENAME, {"name": "Renamed In A"})).rowcount == 4
        await db.commit()
    await b_untouched(rt, other_clinic)


@P27
async def test_run_fills_the_tenant_into_rows_and_refuses_another_tenants(
    rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    a, b = clinic.tenant.id, other_clinic.tenant.id
    async with rt.database.writing(a) as db:
        with pytest.raises(TenantContextMissing):
            await run(db, ADD_USER, user_row("in.b", b))
        with pytest.raises(TenantContextMissing):
            await run(db, ADD_USER, [user_row("in.a2"), user_row("in.b2", b)])
        await run(db, ADD_USER, [user_row("in.a"), user_row("in.a3", a)])
        await db.commit()
    async with rt.database.reading(a) as db:
        added = select(func.count()).select_from(User).where(User.username.like("in.%"))
        assert await db.scalar(added) == 2
    await b_untouched(rt, other_clinic)


@P27
async def test_run_without_a_tenant_fails_closed(rt: Runtime) -> None:
    async with rt.database.reading() as db:
        with pytest.raises(TenantContextMissing):
            await run(db, NAMES)
