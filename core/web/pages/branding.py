"""Clinic admin -> Branding: colours (previewed, refused when unreadable), tagline and logo;
and the logo itself, served from the clinic's own address."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from praxis.core.accounts.fields import parse
from praxis.core.branding import services as branding
from praxis.core.errors import InvalidInput
from praxis.core.web.context import Access, Ctx
from praxis.core.web.pictures import picture_response
from praxis.core.web.routing import Pages, form_error, redirect, render

pages = Pages()
ADMIN = Access.CLINIC_ADMIN
TITLE = "Branding"
LABELS = {
    "primary_colour": "Main colour",
    "accent_colour": "Accent colour",
    "tagline": "Tagline",
    "logo": "Logo",
}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _current(ctx: Ctx) -> dict[str, str]:
    shown = ctx.tenant.branding
    return {
        "primary_colour": shown.primary_colour,
        "accent_colour": shown.accent_colour,
        "tagline": shown.tagline,
    }


def _page(ctx: Ctx, *, status: int = 200, **extra: Any) -> Response:
    extra.setdefault("values", _current(ctx))
    return render(
        ctx,
        "admin/branding.html",
        status=status,
        labels=LABELS,
        field_labels=LABELS,
        logo_url=ctx.tenant.branding.logo_url,
        title=TITLE,
        **extra,
    )


@pages.page("/admin/branding", access=ADMIN)
async def branding_page(ctx: Ctx) -> Response:
    return _page(ctx)


@pages.page("/admin/branding", methods=["POST"], access=ADMIN, name="save_branding")
async def save_branding(ctx: Ctx) -> Response:
    """Preview, or save: the same checks either way, so a preview shows what saving would."""
    try:
        form = parse(branding.BrandingForm, ctx.form)
        form.check()
        if ctx.form.get("action") == "preview":
            return _page(ctx, values=dict(ctx.form), preview=form)
        await branding.save_colours(ctx.db, ctx.tenant.id, form)
    except InvalidInput as exc:
        return form_error(
            ctx,
            "admin/branding.html",
            exc,
            labels=LABELS,
            field_labels=LABELS,
            logo_url=ctx.tenant.branding.logo_url,
            title=TITLE,
        )
    await ctx.db.commit()
    ctx.rt.directory.forget_all()  # every page shows the new look at once
    return redirect(ctx, "/admin/branding", notice="Branding saved.")


@pages.page("/admin/branding/preview.css", access=ADMIN)
async def preview_css(ctx: Ctx) -> Response:
    """The colours under preview, for the preview box alone (no inline styles: the CSP)."""
    q = ctx.request.query_params
    primary, accent = q.get("primary_colour", ""), q.get("accent_colour", "")
    css = ""
    if _HEX.match(primary) and _HEX.match(accent):
        css = f".brand-preview{{--brand:{primary};--accent:{accent}}}\n"
    return Response(css, media_type="text/css")


@pages.page("/admin/branding/logo", methods=["POST"], access=ADMIN, uploads=1)
async def upload_logo(ctx: Ctx) -> Response:
    try:
        await branding.save_logo(ctx.db, ctx.tenant.id, ctx.files.get("logo", b""))
    except InvalidInput as exc:
        return form_error(
            ctx,
            "admin/branding.html",
            exc,
            labels=LABELS,
            field_labels=LABELS,
            logo_url=ctx.tenant.branding.logo_url,
            title=TITLE,
        )
    await ctx.db.commit()
    ctx.rt.directory.forget_all()
    return redirect(ctx, "/admin/branding", notice="Logo saved.")


@pages.page("/admin/branding/logo/remove", methods=["POST"], access=ADMIN)
async def remove_logo(ctx: Ctx) -> Response:
    await branding.remove_logo(ctx.db, ctx.tenant.id)
    await ctx.db.commit()
    ctx.rt.directory.forget_all()
    return redirect(ctx, "/admin/branding", notice="Logo removed.")


@pages.page("/-/logo", access=Access.PUBLIC)
async def logo(ctx: Ctx) -> Response:
    stored = await branding.logo(ctx.db)
    if stored is None:
        return render(ctx, "error.html", status=404, title="Page not found", message="No logo.")
    return picture_response(ctx.request, stored.png, "image/png", stored.digest)
