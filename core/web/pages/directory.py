"""The public directory on the platform's bare domain (``/``): clinics that opted in and
their Professionals, searchable without scripts; each links to the clinic's own portal for
booking. Beside it: the platform's privacy notice (``/platform/privacy``) and a contact page."""

from __future__ import annotations

import uuid

from markupsafe import Markup
from starlette.responses import Response

from praxis.core.clinics import listing
from praxis.core.web.context import Ctx
from praxis.core.web.pictures import picture_response
from praxis.core.web.routing import Pages, render

pages = Pages()
RESULTS = "platform/_directory_results.html"


@pages.page("/", site="platform", name="platform_root")
async def directory(ctx: Ctx) -> Response:
    query = listing.Search.of(dict(ctx.request.query_params))
    snapshot = await ctx.rt.pages.directory.current(
        ctx.rt.database, portal_of=ctx.settings.site_url, now=ctx.now
    )
    found = listing.matching(snapshot, query, now=ctx.now)
    searched = any((query.field, query.mode, query.town, query.within))
    return render(
        ctx,
        "platform/directory.html",
        query=query,
        results=_results(ctx, snapshot, found, searched=searched),
        modes=listing.MODES,
        within=listing.WITHIN,
        title="Find a clinic",
    )


def _results(
    ctx: Ctx, snapshot: listing.Directory, found: list[listing.ListedClinic], *, searched: bool
) -> Markup:
    """The clinics found, rendered once per snapshot and result: the list of a few hundred
    Professionals costs some 25 times the rest of the page to render. The result itself is
    filtered afresh each time ("within 2 days" counts from now)."""
    shown = tuple((clinic.portal, tuple(p.id for p in clinic.professionals)) for clinic in found)
    key = (snapshot.number, searched, shown)
    kept = ctx.rt.pages.directory_html
    html = kept.get(key, ctx.now)
    if html is None:
        context = {"clinics": found, "searched": searched}
        html = ctx.request.app.state.templates.render(None, RESULTS, context)
        kept.put(key, html)
    return Markup(html)  # noqa: S704 - rendered by our autoescaping templates


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
