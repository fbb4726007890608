"""News and offers without an account (/news): anyone may ask for the clinic's news by
email, by text or both; each starts only once the link sent to that address or number is
used (double opt-in; every text then says how to STOP). P17, P18."""

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
    if done.phone_to_confirm:
        said.append("We have texted you a link: news by text starts once you open it.")
    return redirect(ctx, "/news", notice=" ".join(said) or "You are already signed up.")


USES = {"confirm": "email", "confirm_sms": "phone"}  # what each link confirms


def _confirming(ctx: Ctx) -> tuple[uuid.UUID, str] | None:
    """The subscriber whose link this is, and what it confirms, while it is under a week old."""
    sealed = ctx.request.path_params["token"]
    for use, what in USES.items():
        found = subscribers.read_token(
            ctx.rt.keyring, ctx.tenant.id, sealed, use, max_age=subscribers.CONFIRM_WITHIN
        )
        if found is not None:
            return found, what
    return None


@pages.page("/news/confirm/{token}")
async def confirm_page(ctx: Ctx) -> Response:
    """A page with one button, so a mail scanner following the link confirms nothing."""
    found = _confirming(ctx)
    if found is None:
        return error_page(ctx, 404, "Page not found", "This link is not valid or has expired.")
    sealed = ctx.request.path_params["token"]
    title = "Confirm your email" if found[1] == "email" else "Confirm your mobile number"
    return render(ctx, "portal/news_confirm.html", token=sealed, what=found[1], title=title)


@pages.page("/news/confirm/{token}", methods=["POST"], name="news_confirm")
async def confirm(ctx: Ctx) -> Response:
    found = _confirming(ctx)
    version = await notices.number_in_force(ctx.db)
    confirmed = False
    if found is not None:
        how = subscribers.confirm if found[1] == "email" else subscribers.confirm_phone
        confirmed = await how(ctx.db, ctx.tenant, found[0], notice_version=version)
    if found is None or not confirmed:
        return error_page(ctx, 404, "Page not found", "This link is not valid or has expired.")
    await ctx.db.commit()
    said = {
        "email": "Your email is confirmed: you will receive our news and offers.",
        "phone": "Your mobile number is confirmed: you will receive our news and offers by "
        "text. Reply STOP to any of them to end it.",
    }
    return redirect(ctx, "/news", notice=said[found[1]])
