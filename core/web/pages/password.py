"""Forgotten password: ask for a link by email, then choose a new password with it. Clinic
accounts do it on their clinic's site, platform operators under /platform.

The token travels in the query string (never logged) and then in the form body; the answer
to "send me a link" is the same whether or not the account exists.
"""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.responses import Response

from praxis.core.accounts import operator_password_reset, password_reset
from praxis.core.errors import InvalidInput
from praxis.core.web.context import Ctx, SiteKind
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
SENT = (
    "If an account matches, we have emailed it a link to set a new password. It works for an hour."
)
DONE = "Your new password is set. Sign in with it; other devices were signed out."
SITES: tuple[tuple[str, SiteKind], ...] = (("", "tenant"), ("/platform", "platform"))


def _platform(ctx: Ctx) -> bool:
    return ctx.tenant_or_none is None


async def forgot(ctx: Ctx) -> Response:
    return render(ctx, "portal/password_forgot.html", prefix=ctx.prefix, title="Forgotten password")


async def ask_for_link(ctx: Ctx) -> Response:
    who = ctx.form.get("who", "")[:254]
    link = None
    if _platform(ctx):
        link = await operator_password_reset.ask(ctx.db, who)
    else:
        await password_reset.ask(ctx.db, ctx.tenant, who)
    await ctx.db.commit()
    response = redirect(ctx, f"{ctx.prefix}/login", notice=SENT)
    if link is not None:  # sent once the answer has gone: it takes no longer when one matches
        site = ctx.settings.site_url()
        response.background = BackgroundTask(
            operator_password_reset.send, ctx.rt.platform_mail, site, link
        )
    return response


async def reset_form(ctx: Ctx) -> Response:
    token = ctx.request.query_params.get("token", "")
    reset = operator_password_reset if _platform(ctx) else password_reset
    valid = await reset.check(ctx.db, token)
    return render(
        ctx,
        "portal/password_reset.html",
        status=200 if valid else 400,
        token=token,
        valid=valid,
        prefix=ctx.prefix,
        title="Choose a new password",
    )


async def set_new_password(ctx: Ctx) -> Response:
    token, password = ctx.form.get("token", ""), ctx.form.get("password", "")
    reset = operator_password_reset if _platform(ctx) else password_reset
    try:  # ctx.sessions: the operators' sessions on the platform, the clinic's accounts' here
        await reset.set_password(
            ctx.db, token, password, passwords=ctx.rt.passwords, sessions=ctx.sessions
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
            prefix=ctx.prefix,
            title="Choose a new password",
        )
    return redirect(ctx, f"{ctx.prefix}/login", notice=DONE)


for prefix, site in SITES:
    named = f"{site}_" if site == "platform" else ""
    pages.page(f"{prefix}/password/forgot", site=site, name=f"{named}forgot")(forgot)
    pages.page(
        f"{prefix}/password/forgot", methods=["POST"], site=site, name=f"{named}ask_for_link"
    )(ask_for_link)
    pages.page(f"{prefix}/password/reset", site=site, name=f"{named}reset_form")(reset_form)
    pages.page(
        f"{prefix}/password/reset", methods=["POST"], site=site, name=f"{named}set_new_password"
    )(set_new_password)
