"""Counting visits (core/analytics/counter.py): a page is counted without ids or query, tallies
written in the background add to what is stored (several processes count alike), each clinic
to its own rows; nothing about a visitor is stored (P08)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import select

from praxis.core.analytics import report
from praxis.core.analytics.counter import VisitCounter, page_of
from praxis.core.analytics.models import VisitCount
from praxis.core.runtime import Runtime
from tests.support import Clinic

DAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/", "/"),
        ("/professionals", "/professionals"),
        ("/professionals/6f1c2b9e-3a4d-4e5f-8a9b-0c1d2e3f4a5b", "/professionals/{id}"),
        ("/appointments/6f1c2b9e3a4d4e5f8a9b0c1d2e3f4a5b/pay", "/appointments/{id}/pay"),
        ("/privacy/versions/12", "/privacy/versions/{id}"),
        ("/news/confirm/Zm9vYmFyYmF6cXV4MTIzNDU2Nzg", "/news/confirm/{id}"),
        ("/unsubscribe/gAAAAABpNx3k_Ab-9Zz0Qw==", "/unsubscribe/{id}"),  # a sealed link
        ("/professionals/x/book?type=42&name=Jo", "/professionals/x/book"),
        ("/account/privacy-and-consents-explained", "/account/privacy-and-consents-explained"),
    ],
)
def test_a_page_is_counted_without_ids_tokens_or_query(path: str, page: str) -> None:
    assert page_of(path) == page


def test_a_page_address_is_never_longer_than_its_column() -> None:
    assert len(page_of("/" + "a" * 500)) == 200


async def stored(rt: Runtime, clinic: Clinic) -> dict[str, tuple[int, int]]:
    async with rt.database.reading(clinic.tenant.id) as db:
        rows = await db.scalars(select(VisitCount))
        return {(row.path): (row.views, row.visitors) for row in rows}


@pytest.mark.promise("P08")
async def test_tallies_add_to_what_is_stored_and_each_clinic_keeps_its_own(
    rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    one, two = VisitCounter(rt.database), VisitCounter(rt.database)  # two processes
    one.count(clinic.tenant.id, DAY, "/", new_visitor=True)
    one.count(clinic.tenant.id, DAY, "/", new_visitor=False)
    two.count(clinic.tenant.id, DAY, "/", new_visitor=True)
    two.count(other_clinic.tenant.id, DAY, "/professionals", new_visitor=True)
    await one.flush()
    await two.flush()
    one.count(clinic.tenant.id, DAY, "/", new_visitor=False)
    await one.flush()
    assert await stored(rt, clinic) == {"/": (4, 2)}
    assert await stored(rt, other_clinic) == {"/professionals": (1, 1)}
    async with rt.database.reading(other_clinic.tenant.id) as db:
        days = await report.by_day(db, DAY, days=2)
    assert [(d.day, d.views, d.visitors) for d in days] == [
        (DAY, 1, 1),
        (date(2026, 12, 6), 0, 0),
    ]
    columns = set(VisitCount.__table__.columns.keys())
    assert columns == {"tenant_id", "day", "path", "views", "visitors"}  # nobody's id or address


async def test_a_tally_is_written_in_the_background_once_due(rt: Runtime, clinic: Clinic) -> None:
    counter = VisitCounter(rt.database, every=0.0)  # always due: the first view starts a write
    counter.count(clinic.tenant.id, DAY, "/", new_visitor=True)
    assert counter.pending == 1
    for _ in range(50):
        if await stored(rt, clinic):
            break
        await asyncio.sleep(0.01)
    assert await stored(rt, clinic) == {"/": (1, 1)}
    assert counter.pending == 0


async def test_forgetting_drops_what_was_not_written(rt: Runtime, clinic: Clinic) -> None:
    counter = VisitCounter(rt.database)
    counter.count(clinic.tenant.id, DAY, "/", new_visitor=True)
    await counter.forget()
    await counter.flush()
    assert await stored(rt, clinic) == {}
