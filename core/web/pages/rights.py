"""A consumer's rights in the portal: correcting their details (P32) and, for staff, who had
the old data (Art. 19)."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core import ledger
from praxis.core.errors import InvalidInput
from praxis.core.privacy import correction
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, form_error, redirect, render

pages = Pages()
DETAILS = "account/details.html"


def _current(ctx: Ctx) -> dict[str, str]:
    me = ctx.me
    return {name: str(getattr(me, name) or "") for name in correction.FIELD_CATEGORIES}


@pages.page("/account/details", access=Access.CONSUMER)
async def details_form(ctx: Ctx) -> Response:
    return render(ctx, DETAILS, values=_current(ctx), title="Correct your details")


@pages.page("/account/details", methods=["POST"], access=Access.CONSUMER)
async def details_save(ctx: Ctx) -> Response:
    try:
        done = await correction.correct(
            ctx.db,
            ctx.tenant,
            ctx.me,
            ctx.form,
            passwords=ctx.rt.passwords,
            keyring=ctx.rt.keyring,
            region=ctx.region,
        )
    except InvalidInput as exc:
        return form_error(ctx, DETAILS, exc, title="Correct your details")
    if not done.fields:
        return redirect(ctx, "/account", notice="Nothing changed: your details are as they were.")
    await ctx.db.commit()
    return redirect(ctx, "/account", notice="Your details are corrected.")


@pages.page("/admin/corrections", access=Access.CLINIC_ADMIN)
async def corrections(ctx: Ctx) -> Response:
    found = await correction.corrections(ctx.db)
    return render(
        ctx,
        "admin/corrections.html",
        records=found,
        words=ledger.CATEGORY_WORDS,
        title="Corrections to tell recipients about",
    )
