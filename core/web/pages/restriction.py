"""Account -> Restrict processing (P34): the consumer restricts what is done with their data,
or lifts the restriction, in one step."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.accounts.restriction import restricted
from praxis.core.privacy import restriction
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
TITLE = "Restrict processing of my data"


@pages.page("/account/restrict", access=Access.CONSUMER)
async def restrict_page(ctx: Ctx) -> Response:
    return render(ctx, "account/restrict.html", restricted=restricted(ctx.me), title=TITLE)


@pages.page("/account/restrict", methods=["POST"], access=Access.CONSUMER, name="restrict")
async def restrict(ctx: Ctx) -> Response:
    user = ctx.user
    assert user is not None  # guarded by access
    if ctx.form.get("action") == "lift":
        await restriction.lift(ctx.db, ctx.tenant, user, by=user.id, now=ctx.now)
        notice = "The restriction is lifted: the clinic may use your data as before."
    else:
        await restriction.restrict(ctx.db, ctx.tenant, user, by=user.id, now=ctx.now)
        notice = "Your data is restricted: it is kept, and nothing new is done with it."
    await ctx.db.commit()
    return redirect(ctx, "/account/restrict", notice=notice)
