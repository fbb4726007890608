"""Clinic admin -> Legal holds: keep one consumer's records, or every record of the clinic,
whatever the retention periods say, while a claim or an investigation needs them."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.errors import InvalidInput
from praxis.core.privacy import holds
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, form_error, redirect, render

pages = Pages()
ADMIN = Access.CLINIC_ADMIN
PAGE = "admin/holds.html"
TITLE = "Legal holds"


@pages.page("/admin/holds", access=ADMIN)
async def holds_page(ctx: Ctx) -> Response:
    return render(ctx, PAGE, holds=await holds.shown(ctx.db), title=TITLE)


@pages.page("/admin/holds", methods=["POST"], access=ADMIN, name="place_hold")
async def place(ctx: Ctx) -> Response:
    try:
        await holds.place_by_staff(
            ctx.db,
            username=ctx.form.get("consumer", ""),
            reason=ctx.form.get("reason", ""),
            actor=ctx.me.id,
            now=ctx.now,
        )
    except InvalidInput as exc:
        return form_error(ctx, PAGE, exc, holds=await holds.shown(ctx.db), title=TITLE)
    await ctx.db.commit()
    return redirect(
        ctx,
        "/admin/holds",
        notice="The legal hold is in place: nothing it covers will be deleted until you lift it.",
    )


@pages.page("/admin/holds/{hold_id:uuid}/lift", methods=["POST"], access=ADMIN)
async def lift(ctx: Ctx) -> Response:
    await holds.lift_by_staff(
        ctx.db, ctx.request.path_params["hold_id"], actor=ctx.me.id, now=ctx.now
    )
    await ctx.db.commit()
    return redirect(ctx, "/admin/holds", notice="The legal hold is lifted.")
