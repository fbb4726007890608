"""The public directory on the platform's bare domain (``/``): clinics that opted in and
their Professionals, searchable without scripts; each links to the clinic's own portal for
booking. Beside it: the platform's privacy notice (``/platform/privacy``) and a contact page."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from praxis.core.clinics import listing
from praxis.core.web.context import Ctx
from praxis.core.web.pictures import picture_response
from praxis.core.web.routing import Pages, render

pages = Pages()


@pages.page("/", site="platform", name="platform_root")
async def directory(ctx: Ctx) -> Response:
    query = listing.Search.of(dict(ctx.request.query_params))
    found = await ctx.rt.pages.directory.search(
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


@pages.page("/-/photos/{slug}/{professional_id:uuid}", site="platform", name="directory_photo")
async def photo(ctx: Ctx) -> Response:
    """A listed Professional's photo, from the platform's own address (see listing)."""
    params = ctx.request.path_params
    professional_id: uuid.UUID = params["professional_id"]
    stored = await listing.listed_photo(ctx.rt.database, params["slug"], professional_id)
    if stored is None:
        return render(ctx, "error.html", status=404, title="Page not found", message="No photo.")
    return picture_response(ctx.request, stored.image, stored.media_type, stored.digest)


@pages.page("/contact", site="platform")
async def contact(ctx: Ctx) -> Response:
    return render(
        ctx,
        "platform/contact.html",
        controller=ctx.settings.platform_controller,
        title="Contact the platform",
    )
