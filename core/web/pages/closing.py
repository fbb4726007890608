"""Account -> Close my account (P28) and Delete my account and data (P33): each page says what
stops working first, and asks for the password again."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from praxis.core.errors import InvalidInput
from praxis.core.privacy.closing import check_password, close_account, upcoming_bookings
from praxis.core.privacy.erasure import OnHold, request_erasure
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, form_error, redirect, render

pages = Pages()

CLOSE = "account/close.html"
ERASE = "account/erase.html"


async def _context(ctx: Ctx) -> dict[str, Any]:
    return {
        "upcoming": await upcoming_bookings(ctx.db, ctx.me.id, now=ctx.now),
        "retention_months": ctx.tenant.retention.closed_account_months,
        "billing_years": ctx.tenant.retention.billing_years,
    }


@pages.page("/account/close", access=Access.CONSUMER)
async def close_form(ctx: Ctx) -> Response:
    return render(ctx, CLOSE, title="Close my account", **await _context(ctx))


@pages.page("/account/close", methods=["POST"], access=Access.CONSUMER, name="close_account")
async def close(ctx: Ctx) -> Response:
    user = ctx.user
    assert user is not None  # guarded by access
    try:
        await check_password(ctx.rt.passwords, user, ctx.form.get("password", ""))
    except InvalidInput as exc:
        return form_error(ctx, CLOSE, exc, title="Close my account", **await _context(ctx))
    await close_account(ctx.db, ctx.tenant, user, now=ctx.now, by=user.id)
    await ctx.db.commit()
    months = ctx.tenant.retention.closed_account_months
    response = redirect(
        ctx,
        "/",
        notice=f"Your account is closed and you have been signed out. Your data will be "
        f"erased in {months} months.",
    )
    ctx.sign_out(response)
    return response


@pages.page("/account/erase", access=Access.CONSUMER)
async def erase_form(ctx: Ctx) -> Response:
    return render(ctx, ERASE, title="Delete my account and data", **await _context(ctx))


@pages.page("/account/erase", methods=["POST"], access=Access.CONSUMER, name="erase_account")
async def erase(ctx: Ctx) -> Response:
    user = ctx.user
    assert user is not None  # guarded by access
    try:
        await check_password(ctx.rt.passwords, user, ctx.form.get("password", ""))
    except InvalidInput as exc:
        context = await _context(ctx)
        return form_error(ctx, ERASE, exc, title="Delete my account and data", **context)
    try:
        await request_erasure(ctx.db, ctx.tenant, user, now=ctx.now, by=user.id)
        notice = "Your account and your data have been deleted. You have been signed out."
    except OnHold as held:
        notice = held.message
    response = redirect(ctx, "/", notice=notice)
    ctx.sign_out(response)
    return response
