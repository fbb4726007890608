"""Following the front desk's link: a patient turns the record the clinic keeps for them into
a portal account, choosing their own username and password. The token travels in the query
string (never logged, as the password reset's) and then in the form body."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from praxis.core.desk import claims
from praxis.core.errors import InvalidInput
from praxis.core.web.context import Ctx
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
LABELS = {"username": "Username", "password": "Password", "confirm": "Password again"}


async def _page(ctx: Ctx, token: str, *, status: int = 200, **extra: Any) -> Response:
    if await claims.find(ctx.db, token, now=ctx.now) is None:
        return render(
            ctx,
            "desk/claim.html",
            status=410,
            valid=False,
            message=claims.SPENT,
            title="Link not valid",
        )
    return render(
        ctx,
        "desk/claim.html",
        status=status,
        valid=True,
        token=token,
        field_labels=LABELS,
        title="Choose your username and password",
        **extra,
    )


@pages.page("/claim")
async def claim_form(ctx: Ctx) -> Response:
    return await _page(ctx, ctx.request.query_params.get("token", ""))


@pages.page("/claim", methods=["POST"], name="accept_claim")
async def accept_claim(ctx: Ctx) -> Response:
    form = ctx.form
    token = form.get("token", "")
    username = form.get("username", "")[:200]
    try:
        user = await claims.accept(
            ctx.db,
            token,
            username=username,
            password=form.get("password", "")[:200],
            confirm=form.get("confirm", "")[:200],
            passwords=ctx.rt.passwords,
            now=ctx.now,
        )
    except InvalidInput as exc:
        return await _page(
            ctx,
            token,
            status=422,
            errors=exc.fields,
            summary=exc.message,
            values={"username": username},
        )
    notice = f"Welcome, {user.full_name}: your account is ready. Sign in with your new password."
    return redirect(ctx, "/login", notice=notice)
