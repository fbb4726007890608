"""The clinic admin's choice to appear in the platform's public directory, and under which
town. Only the clinic's name, town, tagline and approved Professionals are ever shown there."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.accounts.fields import clean_line
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, redirect, render
from praxis.tenants import services as tenants

pages = Pages()


async def _form(ctx: Ctx, *, status: int = 200, **extra: object) -> Response:
    async with ctx.rt.database.reading() as db:
        record = await tenants.tenant_by_id(db, ctx.tenant.id)
    listed, town = (record.listed, record.town) if record else (False, "")
    return render(
        ctx,
        "admin/directory.html",
        status=status,
        listed=listed,
        values=extra.pop("values", None) or {"town": town},
        platform=ctx.settings.site_url(),
        field_labels={"town": "Town"},
        title="Public directory",
        **extra,
    )


@pages.page("/admin/directory", access=Access.CLINIC_ADMIN)
async def directory_settings(ctx: Ctx) -> Response:
    return await _form(ctx)


@pages.page("/admin/directory", methods=["POST"], access=Access.CLINIC_ADMIN, name="save_listing")
async def save_listing(ctx: Ctx) -> Response:
    listed = ctx.form.get("listed") == "yes"
    raw = ctx.form.get("town", "")
    error = ""
    try:
        town = clean_line(raw)
    except ValueError as exc:
        town, error = "", str(exc)
    if not error and len(town) > 100:
        error = "This is too long (at most 100 characters)."
    if not error and listed and not town:
        error = "Enter the town people search for your clinic by."
    if error:
        return await _form(
            ctx,
            status=422,
            errors={"town": error},
            values={"town": raw[:200]},
            summary="Please correct the field marked below; nothing was saved.",
        )
    async with ctx.rt.database.writing() as db:
        await tenants.set_listing(db, ctx.tenant.id, listed=listed, town=town)
    ctx.rt.pages.directory.forget()  # this process shows the choice at once, others soon
    notice = (
        "Your clinic is listed in the public directory."
        if listed
        else "Your clinic is not listed in the public directory."
    )
    return redirect(ctx, "/admin/directory", notice=notice)
