"""Forgotten password: ask for a link by email, then choose a new password with it.

The token travels in the query string (never logged) and then in the form body; the answer
to "send me a link" is the same whether or not the account exists.
"""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.accounts import password_reset
from praxis.core.errors import InvalidInput
from praxis.core.web.context import Ctx
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
SENT = (
    "If an account matches, we have emailed it a link to set a new password. It works for an hour."
)


@pages.page("/password/forgot")
async def forgot(ctx: Ctx) -> Response:
    return render(ctx, "portal/password_forgot.html", title="Forgotten password")


@pages.page("/password/forgot", methods=["POST"], name="ask_for_link")
async def ask_for_link(ctx: Ctx) -> Response:
    await password_reset.ask(ctx.db, ctx.tenant, ctx.form.get("who", "")[:254])
    await ctx.db.commit()
    return redirect(ctx, "/login", notice=SENT)


@pages.page("/password/reset")
async def reset_form(ctx: Ctx) -> Response:
    token = ctx.request.query_params.get("token", "")
    valid = await password_reset.check(ctx.db, token)
    return render(
        ctx,
        "portal/password_reset.html",
        status=200 if valid else 400,
        token=token,
        valid=valid,
        title="Choose a new password",
    )


@pages.page("/password/reset", methods=["POST"], name="set_new_password")
async def set_new_password(ctx: Ctx) -> Response:
    token = ctx.form.get("token", "")
    try:
        await password_reset.set_password(
            ctx.db,
            token,
            ctx.form.get("password", ""),
            passwords=ctx.rt.passwords,
            sessions=ctx.rt.user_sessions,
        )
    except InvalidInput as exc:
        valid = "token" not in exc.fields
        return render(
            ctx,
            "portal/password_reset.html",
            status=422 if valid else 400,
            token=token,
            valid=valid,
            errors=exc.fields,
            summary=exc.message,
            title="Choose a new password",
        )
    return redirect(
        ctx,
        "/login",
        notice="Your new password is set. Sign in with it; other devices were signed out.",
    )
