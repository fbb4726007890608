"""Prebuilt statements (praxis.core.tenancy.statements): narrowed to the tenant when they are
built, bound to the session's own tenant each time they run, and nothing else runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import bindparam, func, insert, or_, select

from praxis.core.accounts.models import Professional, User
from praxis.core.db import table_of
from praxis.core.runtime import Runtime
from praxis.core.tenancy import (
    TenantContextMissing,
    TenantStatement,
    UnfilterableStatement,
    delete_rows,
    insert_rows,
    narrowed,
    run,
    select_rows,
    update_rows,
)
from praxis.tenants.models import Tenant
from tests.support import Clinic
from tests.unit.tenancy.rows import A_USERNAMES, b_untouched, user_row

P27 = pytest.mark.promise("P27")
USERS = table_of(User)
PROS = table_of(Professional)
MY_USERS = narrowed(USERS)
MY_PROS = narrowed(PROS)

NAMES = select_rows(select(MY_USERS.c.username).order_by(MY_USERS.c.username))
ONE = select_rows(select(MY_USERS.c.username).where(MY_USERS.c.id == bindparam("id")))
ADD_USER = insert_rows(USERS)
RENAME = update_rows(USERS, where=(), values={"full_name": bindparam("name")})
FORGET = delete_rows(PROS, where=(PROS.c.display_name == bindparam("name"),))


@P27
@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: select_rows(select(USERS.c.username)), id="a raw table"),
        pytest.param(
            lambda: select_rows(select(MY_USERS.c.username).where(USERS.c.id.is_not(None))),
            id="a raw column beside a narrowed table",
        ),
        pytest.param(
            lambda: select_rows(
                select(MY_USERS.c.username).where(
                    or_(MY_USERS.c.id.is_(None), MY_USERS.c.id.in_(select(PROS.c.user_id)))
                )
            ),
            id="a raw subquery inside an OR",
        ),
        pytest.param(
            lambda: select_rows(
                select(MY_PROS.c.display_name).join(USERS, USERS.c.id == MY_PROS.c.user_id)
            ),
            id="a raw joined table",
        ),
        pytest.param(
            lambda: update_rows(USERS, where=(), values={"tenant_id": uuid.uuid4()}),
            id="an update moving rows to another tenant",
        ),
        pytest.param(
            lambda: update_rows(
                USERS, where=(USERS.c.id.in_(select(USERS.c.id)),), values={"full_name": "X"}
            ),
            id="an update reading its own table raw in a subquery",
        ),
        pytest.param(
            lambda: delete_rows(USERS, where=(USERS.c.id.in_(select(PROS.c.user_id)),)),
            id="a delete reading another table raw",
        ),
    ],
)
def test_a_statement_that_reaches_a_tenant_table_raw_cannot_be_built(
    build: Callable[[], TenantStatement],
) -> None:
    with pytest.raises(UnfilterableStatement):
        build()


def test_only_the_builders_make_a_tenant_statement_and_only_for_tenant_tables() -> None:
    with pytest.raises(TypeError, match="build a TenantStatement"):
        TenantStatement(select(USERS.c.username))
    with pytest.raises(ValueError, match="not a tenant table"):
        narrowed(table_of(Tenant))
    with pytest.raises(ValueError, match="not a tenant table"):
        insert_rows(table_of(Tenant))


@P27
async def test_run_executes_nothing_but_a_tenant_statement(rt: Runtime, clinic: Clinic) -> None:
    async with rt.database.reading(clinic.tenant.id) as db:
        raw: Any = select(USERS.c.username)
        with pytest.raises(TypeError, match="only a TenantStatement"):
            await run(db, raw)
        with pytest.raises(TypeError, match="only a TenantStatement"):
            await run(db, insert(USERS))  # type: ignore[arg-type]


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
        gone = await run(db, FORGET, {"name": "Beta.Pro Example"})
        assert gone.rowcount == 0
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
async def test_run_without_a_tenant_fails_closed(rt: Runtime, clinic: Clinic) -> None:
    async with rt.database.reading() as db:
        with pytest.raises(TenantContextMissing):
            await run(db, NAMES)
