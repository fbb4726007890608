"""Clinic admin -> Retention: the clinic's periods, accounts waiting to be erased and when,
what the next daily run would remove, and the legal holds that pause it."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.accounts import invitations
from praxis.core.privacy import retention
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, render

pages = Pages()


@pages.page("/admin/retention", access=Access.CLINIC_ADMIN)
async def retention_page(ctx: Ctx) -> Response:
    seen = await retention.overview(ctx.db, ctx.tenant, now=ctx.now)
    return render(
        ctx,
        "admin/retention.html",
        overview=seen,
        periods=ctx.tenant.retention,
        invitation_days=invitations.VALID_FOR.days,
        title="Retention",
    )
