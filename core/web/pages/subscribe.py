"""News and offers without an account (/news): anyone may ask for the clinic's news by
email, by text or both; email starts only once the link sent to the address is used (double
opt-in), texts at once (every one says how to STOP). P17, P18."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from praxis.core.consents import subscribers
from praxis.core.errors import InvalidInput
from praxis.core.privacy import notices
from praxis.core.web.context import Ctx
from praxis.core.web.routing import Pages, error_page, form_error, redirect, render

pages = Pages()
TITLE = "News and offers"
LABELS = {"email": "Email address", "phone": "Mobile number", "channels": "How to reach you"}


@pages.page("/news")
async def news(ctx: Ctx) -> Response:
    return render(ctx, "portal/news.html", field_labels=LABELS, title=TITLE)


@pages.page("/news", methods=["POST"], name="news_sign_up")
async def sign_up(ctx: Ctx) -> Response:
    try:
        form = subscribers.read_form(dict(ctx.form))
    except InvalidInput as exc:
        return form_error(ctx, "portal/news.html", exc, field_labels=LABELS, title=TITLE)
    done = await subscribers.sign_up(
        ctx.db, ctx.tenant, form, notice_version=await notices.number_in_force(ctx.db)
    )
    await ctx.db.commit()
    said = []
    if done.email_to_confirm:
        said.append("We have emailed you a link: news by email starts once you open it.")
    if done.texts:
        said.append("News by text starts now; reply STOP to any message to end it.")
    return redirect(ctx, "/news", notice=" ".join(said) or "You are already signed up.")


def _confirming(ctx: Ctx) -> uuid.UUID | None:
    """The subscriber whose link this is, while it is less than a week old."""
    sealed = ctx.request.path_params["token"]
    return subscribers.read_token(
        ctx.rt.keyring, ctx.tenant.id, sealed, "confirm", max_age=subscribers.CONFIRM_WITHIN
    )


@pages.page("/news/confirm/{token}")
async def confirm_page(ctx: Ctx) -> Response:
    """A page with one button, so a mail scanner following the link confirms nothing."""
    if _confirming(ctx) is None:
        return error_page(ctx, 404, "Page not found", "This link is not valid or has expired.")
    sealed = ctx.request.path_params["token"]
    return render(ctx, "portal/news_confirm.html", token=sealed, title="Confirm your email")


@pages.page("/news/confirm/{token}", methods=["POST"], name="news_confirm")
async def confirm(ctx: Ctx) -> Response:
    found = _confirming(ctx)
    if found is None or not await subscribers.confirm(
        ctx.db, ctx.tenant, found, notice_version=await notices.number_in_force(ctx.db)
    ):
        return error_page(ctx, 404, "Page not found", "This link is not valid or has expired.")
    await ctx.db.commit()
    return redirect(
        ctx, "/news", notice="Your email is confirmed: you will receive our news and offers."
    )
