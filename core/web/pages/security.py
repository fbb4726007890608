"""Clinic admin -> Security log: who signed in, failed to, was locked out, set up two-step
sign-in, reset a password or signed out everywhere, newest first (one account, or all)."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.accounts import consumers, security_log
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, render

pages = Pages()
TITLE = "Security log"


@pages.page("/admin/security", access=Access.CLINIC_ADMIN)
async def security_page(ctx: Ctx) -> Response:
    username = ctx.request.query_params.get("account", "").strip()[:32]
    user_id = None
    errors = {}
    if username:
        user_id = await security_log.account_id(ctx.db, username)
        if user_id is None:
            errors = {"account": "No account of this clinic has that username."}
    events = [] if errors else await security_log.recent(ctx.db, user_id=user_id)
    names = await consumers.usernames(ctx.db, {e.user_id for e in events if e.user_id})
    return render(
        ctx,
        "admin/security.html",
        status=422 if errors else 200,
        events=events,
        names=names,
        errors=errors,
        values={"account": username},
        keep_months=security_log.KEEP_MONTHS,
        title=TITLE,
    )
