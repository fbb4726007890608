"""Rights requests made outside the portal: the clinic's queue with each deadline (P34), and
what the consumer sees of their own under Account."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from praxis.core.errors import InvalidInput
from praxis.core.privacy import requests
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, form_error, redirect, render

pages = Pages()
ADMIN = Access.CLINIC_ADMIN
QUEUE = "admin/requests.html"
DETAIL = "admin/request.html"


async def _queue(ctx: Ctx) -> dict[str, Any]:
    today = ctx.now.astimezone(ctx.tenant.zone).date()
    return {
        "queue": await requests.queue(ctx.db, today),
        "closed": await requests.closed_recently(ctx.db),
        "kinds": requests.KINDS,
        "channels": requests.CHANNELS,
        "today": today.isoformat(),
        "title": "Rights requests",
    }


@pages.page("/admin/requests", access=ADMIN)
async def queue_page(ctx: Ctx) -> Response:
    return render(ctx, QUEUE, **await _queue(ctx))


@pages.page("/admin/requests", methods=["POST"], access=ADMIN, name="log_request")
async def log_request(ctx: Ctx) -> Response:
    try:
        await requests.log(ctx.db, dict(ctx.form), actor=ctx.me.id, now=ctx.now)
    except InvalidInput as exc:
        return form_error(ctx, QUEUE, exc, **await _queue(ctx))
    await ctx.db.commit()
    return redirect(ctx, "/admin/requests", notice="The request is logged, with its deadline.")


@pages.page("/admin/requests/{request_id:uuid}/extend", methods=["POST"], access=ADMIN)
async def extend(ctx: Ctx) -> Response:
    request_id = ctx.request.path_params["request_id"]
    try:
        await requests.extend(ctx.db, request_id, ctx.form.get("reason", ""), actor=ctx.me.id)
    except InvalidInput as exc:
        return form_error(ctx, QUEUE, exc, **await _queue(ctx))
    await ctx.db.commit()
    return redirect(
        ctx, "/admin/requests", notice="Extended by two months: tell the person why, in writing."
    )


@pages.page("/admin/requests/{request_id:uuid}/close", methods=["POST"], access=ADMIN)
async def close(ctx: Ctx) -> Response:
    request_id = ctx.request.path_params["request_id"]
    try:
        await requests.close(
            ctx.db,
            request_id,
            ctx.form.get("outcome", ""),
            ctx.form.get("note", ""),
            actor=ctx.me.id,
            now=ctx.now,
        )
    except InvalidInput as exc:
        return form_error(ctx, QUEUE, exc, **await _queue(ctx))
    await ctx.db.commit()
    return redirect(ctx, "/admin/requests", notice="The request is closed.")


@pages.page("/account/requests", access=Access.CONSUMER)
async def mine(ctx: Ctx) -> Response:
    return render(
        ctx,
        "account/requests.html",
        requests=await requests.of_person(ctx.db, ctx.me.id),
        kinds=requests.KINDS,
        outcomes=requests.OUTCOMES,
        title="Your requests to the clinic",
    )
