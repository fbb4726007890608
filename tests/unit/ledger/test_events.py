"""The disclosure ledger (core.ledger) and its tamper evidence (core.audit, `praxis audit
verify`): each tenant's events form one contiguous hash chain, and an entry edited, deleted or
moved by someone with the database owner's powers is found, as the first broken entry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import String, delete, insert, inspect, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from praxis.core import ledger
from praxis.core.cli import main
from praxis.core.config import Settings, load_settings
from praxis.core.ledger import Entry, EventKind, LedgerEvent, LedgerHead, RecipientKind, Status
from praxis.core.ledger import verify as audit
from praxis.core.runtime import Runtime, build_runtime
from tests.conftest import BACKENDS, TEST_SECRET, empty_tables
from tests.snapshots import app_url
from tests.support import make_tenant

P20 = pytest.mark.promise("P20")
EVENTS = LedgerEvent.__table__
HEADS = LedgerHead.__table__


def entry(number: int, subject_id: uuid.UUID | None = None) -> Entry:
    return Entry(
        kind=EventKind.DISCLOSURE,
        status=Status.RECORDED,
        recipient="Example Processor Ltd",
        recipient_kind=RecipientKind.PROCESSOR,
        operation=f"operation_{number}",
        categories=["phone", "appointment"],
        purpose="appointment reminders",
        legal_basis="contract",
        subject_id=subject_id,
        plugin="example",
        correlation_id=f"job-{number}",
    )


async def append(rt: Runtime, tenant_id: uuid.UUID, *numbers: int) -> None:
    """Each event in a write transaction of its own, as the facade records them."""
    for number in numbers:
        async with rt.database.writing(tenant_id) as db:
            await ledger.append(db, entry(number))
            await db.commit()


async def chain(rt: Runtime, tenant_id: uuid.UUID) -> list[LedgerEvent]:
    async with rt.database.reading(tenant_id) as db:
        return [event async for rows in ledger.batches(db, size=3) for event in rows]


async def verdict(rt: Runtime, tenant_id: uuid.UUID) -> audit.Verdict:
    async with rt.database.reading(tenant_id) as db:
        return await audit.verify(db, tenant_id, rt.ledger_key.public)


@asynccontextmanager
async def as_owner(settings: Settings) -> AsyncIterator[AsyncConnection]:
    """The tables' owner, in one transaction: no tenant filter, no row-level security, and
    every privilege the app's role lacks (UPDATE and DELETE on the ledger)."""
    engine = create_async_engine(settings.migration_url)
    try:
        async with engine.begin() as conn:
            yield conn
    finally:
        await engine.dispose()


def at(tenant_id: uuid.UUID, seq: int) -> Any:
    return (EVENTS.c.tenant_id == tenant_id) & (EVENTS.c.seq == seq)


async def edit(conn: AsyncConnection, tenant_id: uuid.UUID, seq: int) -> None:
    await conn.execute(update(EVENTS).where(at(tenant_id, seq)).values(purpose="marketing"))


async def remove(conn: AsyncConnection, tenant_id: uuid.UUID, seq: int) -> None:
    await conn.execute(delete(EVENTS).where(at(tenant_id, seq)))


async def swap(conn: AsyncConnection, tenant_id: uuid.UUID, first: int, second: int) -> None:
    parked = 10**9  # (tenant_id, seq) is the primary key: move one out of the way first
    await conn.execute(update(EVENTS).where(at(tenant_id, first)).values(seq=parked))
    await conn.execute(update(EVENTS).where(at(tenant_id, second)).values(seq=first))
    await conn.execute(update(EVENTS).where(at(tenant_id, parked)).values(seq=second))


async def rehash(conn: AsyncConnection, tenant_id: uuid.UUID, seq: int) -> None:
    """Edit an entry and give it the hash its new content has: only the links can tell."""
    row = (await conn.execute(select(EVENTS).where(at(tenant_id, seq)))).one()._asdict()
    row["purpose"] = "marketing"
    digest = ledger.event_hash(tenant_id, row["prev_hash"], row)
    await conn.execute(
        update(EVENTS).where(at(tenant_id, seq)).values(purpose="marketing", hash=digest)
    )


Tamper = Callable[[AsyncConnection, uuid.UUID], Awaitable[None]]


async def delete_last_two(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    await remove(conn, tenant_id, 5)
    await remove(conn, tenant_id, 4)


# (what was done to a five-entry chain, what verify must name first)
TAMPERING: dict[str, tuple[Tamper, audit.Broken]] = {
    "an edited row": (lambda c, t: edit(c, t, 2), audit.Broken(2, "edited")),
    "the last row edited": (lambda c, t: edit(c, t, 5), audit.Broken(5, "edited")),
    "a deleted middle row": (lambda c, t: remove(c, t, 3), audit.Broken(3, "missing")),
    "the first row deleted": (lambda c, t: remove(c, t, 1), audit.Broken(1, "missing")),
    "the last row deleted": (lambda c, t: remove(c, t, 5), audit.Broken(5, "truncated")),
    "the last two rows deleted": (delete_last_two, audit.Broken(4, "truncated")),
    "two rows' seq swapped": (lambda c, t: swap(c, t, 2, 3), audit.Broken(2, "out_of_order")),
    "the last two swapped": (lambda c, t: swap(c, t, 4, 5), audit.Broken(4, "out_of_order")),
    "a row edited and rehashed": (lambda c, t: rehash(c, t, 3), audit.Broken(4, "out_of_order")),
    "the last row rehashed": (lambda c, t: rehash(c, t, 5), audit.Broken(5, "edited")),
}


# --- the chain ------------------------------------------------------------------------------


async def test_appends_form_a_contiguous_chain_per_tenant_and_tenants_are_independent(
    rt: Runtime,
) -> None:
    alpha = await make_tenant(rt, "alpha")
    beta = await make_tenant(rt, "beta")
    await append(rt, alpha.id, 1, 2)
    await append(rt, beta.id, 1)
    await append(rt, alpha.id, 3)
    await append(rt, beta.id, 2)

    for tenant_id, expected in ((alpha.id, [1, 2, 3]), (beta.id, [1, 2])):
        events = await chain(rt, tenant_id)
        assert [e.seq for e in events] == expected
        assert [e.operation for e in events] == [f"operation_{n}" for n in expected]
        links = [ledger.GENESIS] + [e.hash for e in events[:-1]]
        assert [e.prev_hash for e in events] == links
        async with rt.database.reading(tenant_id) as db:
            head = await ledger.head(db)
        assert head is not None
        assert (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)
        assert await verdict(rt, tenant_id) == audit.Verdict(len(expected))
    # The tenant is part of every hash: the same content in two chains never hashes alike.
    assert {e.hash for e in await chain(rt, alpha.id)}.isdisjoint(
        {e.hash for e in await chain(rt, beta.id)}
    )


async def test_an_append_rolled_back_leaves_no_gap(rt: Runtime) -> None:
    tenant = await make_tenant(rt, "alpha")
    async with rt.database.writing(tenant.id) as db:
        await ledger.append(db, entry(1))
        await db.rollback()  # the business change failed: its event goes with it
    await append(rt, tenant.id, 2)
    assert [(e.seq, e.operation) for e in await chain(rt, tenant.id)] == [(1, "operation_2")]
    assert (await verdict(rt, tenant.id)).ok


async def test_a_session_that_appends_again_after_others_did_continues_the_chain(
    rt: Runtime,
) -> None:
    tenant = await make_tenant(rt, "alpha")
    async with rt.database.writing(tenant.id) as db:
        await ledger.append(db, entry(1))
        shown = await ledger.head(db)  # e.g. a page that shows how long the ledger is
        await db.commit()
        await append(rt, tenant.id, 2)  # another request, meanwhile
        # The head this session holds is stale now; the lock must read it afresh.
        appended = await ledger.append(db, entry(3))
        await db.commit()
    assert shown is not None and appended.seq == 3
    assert [e.seq for e in await chain(rt, tenant.id)] == [1, 2, 3]
    assert (await verdict(rt, tenant.id)).ok


async def test_twenty_concurrent_appends_for_one_tenant_take_turns(rt: Runtime) -> None:
    tenant = await make_tenant(rt, "alpha")

    async def one(number: int) -> int:
        async with rt.database.writing(tenant.id) as db:
            appended = await ledger.append(db, entry(number))
            await db.commit()
            return appended.seq

    seqs = await asyncio.gather(*(one(n) for n in range(20)))
    assert sorted(seqs) == list(range(1, 21))
    events = await chain(rt, tenant.id)
    assert [e.seq for e in events] == list(range(1, 21))
    assert sorted(e.operation for e in events) == sorted(f"operation_{n}" for n in range(20))
    assert await verdict(rt, tenant.id) == audit.Verdict(20)


async def test_the_ledger_has_no_column_that_could_hold_health_details(
    rt: Runtime, settings: Settings
) -> None:
    # ids, categories and purposes only: erasing a person never has to rewrite the ledger
    expected = {
        "tenant_id", "seq", "recorded_at", "kind", "status", "subject_id", "actor_id",
        "recipient", "recipient_kind", "recipient_id", "plugin", "operation", "categories",
        "purpose", "legal_basis", "correlation_id", "reason", "attempt_seq", "prev_hash", "hash",
    }  # fmt: skip
    assert set(EVENTS.columns.keys()) == expected
    unbounded = [
        c.name
        for c in EVENTS.columns
        if isinstance(c.type, String) and not (c.type.length and c.type.length <= 500)
    ]
    assert unbounded == []
    async with as_owner(settings) as conn:
        migrated = await conn.run_sync(lambda sync: inspect(sync).get_columns("ledger_events"))
    assert {c["name"] for c in migrated} == expected  # the migrations agree with the model


# --- tamper evidence ------------------------------------------------------------------------


@P20
async def test_verify_is_ok_on_an_intact_chain(rt: Runtime) -> None:
    tenant = await make_tenant(rt, "alpha")
    assert await verdict(rt, tenant.id) == audit.Verdict(0)  # nothing yet is intact too
    await append(rt, tenant.id, *range(1, 6))
    assert await verdict(rt, tenant.id) == audit.Verdict(5)


@P20
@pytest.mark.parametrize("done", list(TAMPERING))
async def test_verify_names_the_first_broken_entry(
    rt: Runtime, settings: Settings, done: str
) -> None:
    tamper, expected = TAMPERING[done]
    tenant = await make_tenant(rt, "alpha")
    other = await make_tenant(rt, "beta")
    await append(rt, tenant.id, *range(1, 6))
    await append(rt, other.id, *range(1, 6))
    async with as_owner(settings) as conn:
        await tamper(conn, tenant.id)
    found = await verdict(rt, tenant.id)
    assert found.broken == expected
    assert found.entries == expected.seq - 1  # the entries before it were checked and good
    assert (await verdict(rt, other.id)).ok  # another tenant's chain is not affected


@P20
async def test_a_row_copied_from_another_tenant_reads_as_edited(
    rt: Runtime, settings: Settings
) -> None:
    alpha = await make_tenant(rt, "alpha")
    beta = await make_tenant(rt, "beta")
    await append(rt, alpha.id, 1, 2)
    await append(rt, beta.id, 1, 2)
    async with as_owner(settings) as conn:
        row = (await conn.execute(select(EVENTS).where(at(alpha.id, 2)))).one()._asdict()
        await remove(conn, beta.id, 2)
        await conn.execute(insert(EVENTS).values({**row, "tenant_id": beta.id}))
    assert (await verdict(rt, beta.id)).broken == audit.Broken(2, "edited")


@P20
async def test_an_entry_added_past_the_head_is_found(rt: Runtime, settings: Settings) -> None:
    tenant = await make_tenant(rt, "alpha")
    await append(rt, tenant.id, 1, 2)
    events = await chain(rt, tenant.id)
    forged = {c: getattr(events[-1], c) for c in EVENTS.columns.keys()}  # noqa: SIM118
    forged.update(seq=3, prev_hash=events[-1].hash, purpose="forged")
    forged["hash"] = ledger.event_hash(tenant.id, forged["prev_hash"], forged)
    async with as_owner(settings) as conn:  # a well-formed row, written around append()
        await conn.execute(insert(EVENTS).values(forged))
    assert (await verdict(rt, tenant.id)).broken == audit.Broken(3, "appended")


# Roles and grants are PostgreSQL's: SQLite has none, so this runs where they exist.
if "postgresql" in BACKENDS:

    @pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
    @P20
    async def test_the_apps_role_cannot_update_or_delete_ledger_rows(
        rt: Runtime, backend: str
    ) -> None:
        tenant = await make_tenant(rt, "alpha")
        await append(rt, tenant.id, 1)
        for statement in (
            update(LedgerEvent).values(purpose="marketing"),
            delete(LedgerEvent),
        ):
            async with rt.database.writing(tenant.id) as db:
                with pytest.raises(DBAPIError, match="permission denied"):
                    await db.execute(statement)
        assert (await verdict(rt, tenant.id)).ok


# --- praxis audit verify --------------------------------------------------------------------


def cli_env(url: str, var: Path) -> dict[str, str | None]:
    """``url``: the owner's. On PostgreSQL the commands sign in as the app's role, as in
    production."""
    postgres = url.startswith("postgresql")
    return {
        "PRAXIS_ENV": "test",
        "PRAXIS_VAR_DIR": str(var),
        "DATABASE_URL": app_url(url) if postgres else url,
        "SECRET_KEY": TEST_SECRET,
        "STAFF_MFA_REQUIRED": "false",
        "RATE_LIMIT_STORAGE": "memory://",
        "LOG_LEVEL": "WARNING",
        "MIGRATION_DATABASE_URL": url if postgres else None,
        "DATABASE_ROLE": None,  # the default: the app's own role
        "PLATFORM_DOMAIN": None,
    }


async def two_clinics_with_five_entries(settings: Settings) -> dict[str, uuid.UUID]:
    await empty_tables(settings.migration_url)
    runtime = build_runtime(settings)
    try:
        ids = {}
        for slug in ("alpha", "beta"):
            tenant = await make_tenant(runtime, slug)
            await append(runtime, tenant.id, *range(1, 6))
            ids[slug] = tenant.id
        return ids
    finally:
        await runtime.close()


async def delete_entry(settings: Settings, tenant_id: uuid.UUID, seq: int) -> None:
    async with as_owner(settings) as conn:
        await remove(conn, tenant_id, seq)


@P20
def test_praxis_audit_verify_prints_ok_or_the_broken_entry_and_exits_0_or_1(
    backend: str, database_urls: dict[str, str], tmp_path: Path
) -> None:
    url = database_urls[backend]
    env = cli_env(url, tmp_path)
    settings = load_settings(**{k: v for k, v in env.items() if v is not None})
    ids = asyncio.run(two_clinics_with_five_entries(settings))

    def verify(*args: str) -> Result:
        return CliRunner().invoke(main, ["audit", "verify", *args], env=env)

    intact = verify()
    assert intact.exit_code == 0, intact.output
    assert intact.output.splitlines() == [
        "OK      alpha: 5 entries, chain intact; checkpoint 1 signed",
        "OK      beta: 5 entries, chain intact; checkpoint 1 signed",
    ]

    asyncio.run(delete_entry(settings, ids["beta"], 3))
    broken = verify()
    assert broken.exit_code == 1, broken.output
    assert broken.output.splitlines() == [
        "OK      alpha: 5 entries, chain intact; checkpoint 2 signed",
        "BROKEN  beta: entry 3 is missing: the entries before and after it are there, "
        "so it was deleted",
    ]
    only_alpha = verify("--tenant", "alpha")
    assert (only_alpha.exit_code, only_alpha.output) == (
        0,
        "OK      alpha: 5 entries, chain intact; checkpoint 3 signed\n",
    )
    assert verify("--tenant", "beta").exit_code == 1


def test_praxis_audit_verify_for_an_unknown_clinic_says_so(
    backend: str, database_urls: dict[str, str], tmp_path: Path
) -> None:
    env = cli_env(database_urls[backend], tmp_path)
    asyncio.run(empty_tables(database_urls[backend]))
    result = CliRunner().invoke(main, ["audit", "verify", "--tenant", "nowhere"], env=env)
    # Not 1: a typo must not read as a broken chain to whatever watches the exit code.
    assert result.exit_code == 2, result.output
    assert "There is no clinic with the slug 'nowhere'." in result.output
    assert "Traceback" not in result.output
