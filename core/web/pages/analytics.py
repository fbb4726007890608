"""Visits, for clinic admins: page views and visitors per day over the last 30 days, counted
only for visitors who accepted analytics cookies; totals only, never a visitor (P08)."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.analytics import report
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, render

pages = Pages()


@pages.page("/admin/analytics", access=Access.CLINIC_ADMIN)
async def visits(ctx: Ctx) -> Response:
    await ctx.rt.visits.flush()  # what this process counted so far, so the page is current
    await ctx.db.commit()  # end the sign-in's read: the next one sees what was just written
    today = ctx.now.astimezone(ctx.tenant.zone).date()
    days = await report.by_day(ctx.db, today)
    return render(
        ctx,
        "admin/analytics.html",
        days=days,
        pages=await report.by_page(ctx.db, today),
        views=sum(d.views for d in days),
        visitors=sum(d.visitors for d in days),
        since=report.first_day(today),
        counting=ctx.tenant.count_visits,
        title="Visits",
    )
