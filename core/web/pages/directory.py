"""The public directory on the platform's bare domain (``/``): clinics that opted in and
their Professionals, searchable without scripts; each links to the clinic's own portal for
booking. Beside it: the platform's privacy notice (``/platform/privacy``) and a contact page."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.clinics import listing
from praxis.core.web.context import Ctx
from praxis.core.web.routing import Pages, render

pages = Pages()


@pages.page("/", site="platform", name="platform_root")
async def directory(ctx: Ctx) -> Response:
    query = listing.Search.of(dict(ctx.request.query_params))
    found = await listing.search(
        ctx.rt.database, query, portal_of=ctx.settings.site_url, now=ctx.now
    )
    return render(
        ctx,
        "platform/directory.html",
        query=query,
        clinics=found,
        modes=listing.MODES,
        within=listing.WITHIN,
        searched=any((query.field, query.mode, query.town, query.within)),
        title="Find a clinic",
    )


@pages.page("/contact", site="platform")
async def contact(ctx: Ctx) -> Response:
    return render(
        ctx,
        "platform/contact.html",
        controller=ctx.settings.platform_controller,
        title="Contact the platform",
    )
