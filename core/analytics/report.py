"""What clinic staff see of the counts: totals per day and per page, never a visitor (P08)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.analytics.models import VisitCount

DAYS = 30
TOP_PAGES = 20


@dataclass(frozen=True)
class DayTotal:
    day: date
    views: int
    visitors: int


@dataclass(frozen=True)
class PageTotal:
    page: str
    views: int
    visitors: int  # visitors whose day began on this page


def first_day(today: date, days: int = DAYS) -> date:
    return today - timedelta(days=days - 1)


async def by_day(db: AsyncSession, today: date, days: int = DAYS) -> list[DayTotal]:
    """Each of the last ``days`` days, the newest first; a day nobody visited shows zeros."""
    rows = await db.execute(
        select(VisitCount.day, func.sum(VisitCount.views), func.sum(VisitCount.visitors))
        .where(VisitCount.day >= first_day(today, days), VisitCount.day <= today)
        .group_by(VisitCount.day)
    )
    found = {day: (int(views or 0), int(visitors or 0)) for day, views, visitors in rows}
    return [
        DayTotal(day, *found.get(day, (0, 0)))
        for day in (today - timedelta(days=n) for n in range(days))
    ]


async def by_page(
    db: AsyncSession, today: date, days: int = DAYS, limit: int = TOP_PAGES
) -> list[PageTotal]:
    """The most viewed pages over the last ``days`` days."""
    views = func.sum(VisitCount.views)
    rows = await db.execute(
        select(VisitCount.path, views, func.sum(VisitCount.visitors))
        .where(VisitCount.day >= first_day(today, days), VisitCount.day <= today)
        .group_by(VisitCount.path)
        .order_by(views.desc(), VisitCount.path)
        .limit(limit)
    )
    return [PageTotal(page, int(v or 0), int(n or 0)) for page, v, n in rows]
