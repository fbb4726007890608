"""Account -> Privacy and consents: each consent with its state and since when, changed in
one step (P35, P18)."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.consents import account as my_consents
from praxis.core.intake import services as intake
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
METHODS = {
    "portal": "in your account",
    "sms_keyword": "by text message",
    "email_link": "by the link in an email",
    "email_reply": "by email",
    "staff_written_request": "by the clinic, on your written request",
    "provider_report": "by your phone network",
}


@pages.page("/account/privacy", access=Access.CONSUMER)
async def privacy(ctx: Ctx) -> Response:
    professionals = await intake.answered_for(ctx.db, ctx.me.id)
    lines = await my_consents.shown(ctx.db, ctx.me, professionals)
    return render(
        ctx, "account/privacy.html", lines=lines, methods=METHODS, title="Privacy and consents"
    )


@pages.page("/account/privacy", methods=["POST"], access=Access.CONSUMER, name="privacy_change")
async def change(ctx: Ctx) -> Response:
    give = ctx.form.get("give") == "yes"
    professionals = await intake.answered_for(ctx.db, ctx.me.id)
    kind = await my_consents.change(
        ctx.db,
        ctx.me,
        ctx.form.get("consent", ""),
        give=give,
        clinic=ctx.tenant.name,
        professionals=professionals,
        scope=ctx.form.get("scope", ""),
    )
    await ctx.db.commit()
    done = "You gave consent to" if give else "You withdrew consent to"
    return redirect(ctx, "/account/privacy", notice=f"{done}: {kind.label.lower()}.")
