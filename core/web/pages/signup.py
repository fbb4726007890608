"""Registering: consumers create an account; Professionals apply to join the clinic."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.accounts import registration
from praxis.core.accounts.fields import parse
from praxis.core.accounts.forms import ConsumerRegistration, ProfessionalRegistration
from praxis.core.accounts.models import User
from praxis.core.errors import InvalidInput
from praxis.core.web.context import Ctx
from praxis.core.web.routing import Pages, form_error, redirect, render, safe_next

pages = Pages()


async def _new_session(ctx: Ctx, user: User) -> str:
    """Sign the new account in; a session this browser had before ends on the server."""
    if ctx.token:
        await ctx.rt.user_sessions.end(ctx.db, ctx.token)
    token = await ctx.rt.user_sessions.start(ctx.db, user, mfa_pending=False)
    await ctx.db.commit()
    return token


@pages.page("/register", methods=["GET", "POST"])
async def register(ctx: Ctx) -> Response:
    next_url = safe_next(ctx.request.query_params.get("next"), "/professionals")
    if ctx.request.method == "GET":
        return render(ctx, "portal/register.html", next=next_url, title="Register")
    try:
        form = parse(ConsumerRegistration, ctx.form, region=ctx.region)
        user = await registration.register_consumer(ctx.db, form, ctx.rt.passwords)
    except InvalidInput as exc:
        return form_error(ctx, "portal/register.html", exc, next=next_url, title="Register")
    token = await _new_session(ctx, user)
    response = redirect(ctx, next_url, notice="Welcome! Your account is ready.")
    ctx.sign_in_as(response, token)
    return response


@pages.page("/join", methods=["GET", "POST"])
async def join(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        return render(ctx, "portal/join.html", title="Apply to join")
    try:
        form = parse(ProfessionalRegistration, ctx.form, region=ctx.region)
        user, _profile = await registration.register_professional(ctx.db, form, ctx.rt.passwords)
    except InvalidInput as exc:
        return form_error(ctx, "portal/join.html", exc, title="Apply to join")
    token = await _new_session(ctx, user)
    response = redirect(
        ctx,
        "/workspace",
        notice="Thank you. The clinic will review your application; you can set up your diary now.",
    )
    ctx.sign_in_as(response, token)
    return response
