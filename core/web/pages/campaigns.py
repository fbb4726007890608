"""Marketing for clinic admins (/admin/campaigns: channel, audience, preview, send) and the
unsubscribe link every marketing email carries (P17, P18).

The link's page asks for one click; the POST needs no sign-in and no CSRF token, because mail
services post to it on the person's behalf (RFC 8058): the sealed token is the credential.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from praxis.core.consents import subscribers
from praxis.core.errors import InvalidInput
from praxis.core.notifications import campaigns
from praxis.core.privacy import notices
from praxis.core.runtime import Runtime
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import (
    Pages,
    error_page,
    form_error,
    not_found,
    page_context,
    redirect,
    render,
)
from praxis.tenants.directory import TenantInfo

pages = Pages()
ADMIN = Access.CLINIC_ADMIN
CHANNELS = {"email": "Email", "sms": "Text message (SMS)"}


async def _form_page(ctx: Ctx) -> Response:
    return render(
        ctx,
        "admin/campaigns.html",
        counts=await campaigns.counts(ctx.db),
        sent=await campaigns.past(ctx.db),
        channels=CHANNELS,
        title="Marketing",
    )


@pages.page("/admin/campaigns", access=ADMIN)
async def campaigns_page(ctx: Ctx) -> Response:
    return await _form_page(ctx)


async def _invalid(ctx: Ctx, exc: InvalidInput) -> Response:
    return form_error(
        ctx,
        "admin/campaigns.html",
        exc,
        counts=await campaigns.counts(ctx.db),
        sent=await campaigns.past(ctx.db),
        channels=CHANNELS,
        title="Marketing",
    )


@pages.page("/admin/campaigns/preview", methods=["POST"], access=ADMIN)
async def campaign_preview(ctx: Ctx) -> Response:
    try:
        form = campaigns.read_form(ctx.form)
    except InvalidInput as exc:
        return await _invalid(ctx, exc)
    shown = await campaigns.preview(ctx.db, ctx.tenant, form)
    return render(
        ctx,
        "admin/campaign_preview.html",
        form=form,
        preview=shown,
        channel=CHANNELS[form.channel],
        title="Check your message",
    )


@pages.page("/admin/campaigns", methods=["POST"], access=ADMIN, name="campaign_send")
async def campaign_send(ctx: Ctx) -> Response:
    try:
        form = campaigns.read_form(ctx.form)
    except InvalidInput as exc:
        return await _invalid(ctx, exc)
    queued = await campaigns.send(ctx.db, ctx.tenant, form, actor=ctx.me)
    await ctx.db.commit()
    people = "person" if queued == 1 else "people"
    return redirect(
        ctx, "/admin/campaigns", notice=f"Your message is being sent to {queued} {people}."
    )


# --- the unsubscribe link ----------------------------------------------------------------------


@pages.page("/unsubscribe/{token}")
async def unsubscribe_page(ctx: Ctx) -> Response:
    token = ctx.request.path_params["token"]
    mine = campaigns.read_token(ctx.rt.keyring, ctx.tenant.id, token)
    if mine is None and _subscriber(ctx.rt, ctx.tenant, token) is None:
        return error_page(ctx, 404, "Page not found", "This unsubscribe link is not valid.")
    return render(ctx, "portal/unsubscribe.html", token=token, done=False, title="Unsubscribe")


def _subscriber(runtime: Runtime, site: TenantInfo, token: str) -> uuid.UUID | None:
    """A subscriber without an account, from the link in their email (it never expires)."""
    use = campaigns.UNSUBSCRIBE
    return subscribers.read_token(runtime.keyring, site.id, token, use, max_age=None)


async def unsubscribe(request: Request) -> Response:
    """One click from the page, or the mail service's RFC 8058 POST: email marketing stops."""
    site = request.scope["state"]["site"]
    if not isinstance(site, TenantInfo):
        return not_found(request)
    runtime: Runtime = request.app.state.runtime
    token = request.path_params["token"]
    person = campaigns.read_token(runtime.keyring, site.id, token)
    subscriber = None if person else _subscriber(runtime, site, token)
    if person is None and subscriber is None:
        return not_found(request)
    async with runtime.database.writing(site.id) as db:
        in_force = await notices.number_in_force(db)
        found = False
        if person is not None:
            found = await campaigns.unsubscribe(db, site, person, notice_version=in_force)
        elif subscriber is not None:
            found = await subscribers.unsubscribe(db, site, subscriber, notice_version=in_force)
        await db.commit()
    if not found:
        return not_found(request)
    context = page_context(
        site,
        request.url.path,
        lambda: "",
        title="Unsubscribed",
        done=True,
        subscriber=subscriber is not None,
    )
    html = request.app.state.templates.render(site, "portal/unsubscribe.html", context)
    return HTMLResponse(html)


routes = [Route("/unsubscribe/{token}", unsubscribe, methods=["POST"], name="unsubscribe")]
