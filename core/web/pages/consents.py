"""Account -> Privacy and consents: each consent with its state and since when, changed in
one step (P35, P18); a parent or carer does the same for the people they act for (P26); staff
record and end those authorities on /admin/proxies."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from praxis.core.accounts import consumers
from praxis.core.accounts.fields import parse
from praxis.core.accounts.models import User
from praxis.core.consents import account as my_consents
from praxis.core.consents import proxies
from praxis.core.consents.kinds import ANALYTICS_COOKIES, Method
from praxis.core.errors import InvalidInput, NotFound
from praxis.core.intake import services as intake
from praxis.core.privacy import notices
from praxis.core.web import visits
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, form_error, redirect, render

pages = Pages()
METHODS = {
    "portal": "in the portal",
    "sms_keyword": "by text message",
    "email_link": "by the link in an email",
    "sms_link": "by the link in a text message",
    "email_reply": "by email",
    "staff_written_request": "by the clinic, on a written request",
    "provider_report": "by the phone network",
}


async def _page(ctx: Ctx, person: User, action: str, *, staff: bool = False) -> Response:
    professionals = await intake.answered_for(ctx.db, person.id)
    lines = [
        line
        for line in await my_consents.shown(ctx.db, person, professionals)
        # analytics cookies only where the clinic counts visits, or where once chosen
        if line.kind is not ANALYTICS_COOKIES or ctx.tenant.count_visits or line.state.since
    ]
    actors = {line.state.actor_id for line in lines if line.state.actor_id}
    return render(
        ctx,
        "account/privacy.html",
        lines=lines,
        methods=METHODS,
        person=person,
        action=action,
        actors=await proxies.names(ctx.db, actors - {person.id}),
        acting_for=await proxies.acting_for(ctx.db, ctx.me.id) if person is ctx.me else [],
        staff=staff,
        title="Privacy and consents" + ("" if person is ctx.me else f": {person.full_name}"),
    )


async def _change(ctx: Ctx, person: User, method: Method = Method.PORTAL) -> str:
    give = ctx.form.get("give") == "yes"
    kind = await my_consents.change(
        ctx.db,
        person,
        ctx.form.get("consent", ""),
        give=give,
        clinic=ctx.tenant.name,
        professionals=await intake.answered_for(ctx.db, person.id),
        scope=ctx.form.get("scope", ""),
        actor=ctx.me,
        method=method,
        notice_version=await notices.number_in_force(ctx.db),
    )
    await ctx.db.commit()
    if kind is ANALYTICS_COOKIES and person is ctx.me:
        visits.remember(ctx, visits.ACCEPT if give else visits.REJECT)  # this browser too
    if person is ctx.me:
        done = "You gave consent to" if give else "You withdrew consent to"
    else:
        done = "On their behalf, you gave consent to" if give else "On their behalf, you withdrew"
    return f"{done}: {kind.label.lower()}."


@pages.page("/account/privacy", access=Access.CONSUMER)
async def privacy(ctx: Ctx) -> Response:
    return await _page(ctx, ctx.me, "/account/privacy")


@pages.page("/account/privacy", methods=["POST"], access=Access.CONSUMER, name="privacy_change")
async def change(ctx: Ctx) -> Response:
    return redirect(ctx, "/account/privacy", notice=await _change(ctx, ctx.me))


@pages.page("/account/privacy/object", methods=["POST"], access=Access.CONSUMER)
async def object_to_marketing(ctx: Ctx) -> Response:
    await my_consents.object_to_marketing(
        ctx.db,
        ctx.me,
        clinic=ctx.tenant.name,
        notice_version=await notices.number_in_force(ctx.db),
    )
    await ctx.db.commit()
    return redirect(
        ctx,
        "/account/privacy",
        notice="You object to direct marketing: no news or offers reach you, by email or by text.",
    )


def _person_id(ctx: Ctx) -> uuid.UUID:
    try:
        return uuid.UUID(ctx.request.path_params["person_id"])
    except ValueError:
        raise NotFound() from None


@pages.page("/account/privacy/for/{person_id}", access=Access.CONSUMER)
async def privacy_for(ctx: Ctx) -> Response:
    person = await proxies.person_for(ctx.db, ctx.me, _person_id(ctx))
    return await _page(ctx, person, f"/account/privacy/for/{person.id}")


@pages.page(
    "/account/privacy/for/{person_id}",
    methods=["POST"],
    access=Access.CONSUMER,
    name="privacy_change_for",
)
async def change_for(ctx: Ctx) -> Response:
    person = await proxies.person_for(ctx.db, ctx.me, _person_id(ctx))
    notice = await _change(ctx, person)
    return redirect(ctx, f"/account/privacy/for/{person.id}", notice=notice)


# --- staff: the authorities of parents and carers ---------------------------------------------


async def _proxies_page(ctx: Ctx, *, exc: InvalidInput | None = None) -> Response:
    context: dict[str, Any] = {
        "authorities": await proxies.current(ctx.db),
        "relationships": proxies.RELATIONSHIPS,
        "title": "Parents and carers",
    }
    if exc is not None:
        return form_error(ctx, "admin/proxies.html", exc, **context)
    return render(ctx, "admin/proxies.html", **context)


@pages.page("/admin/proxies", access=Access.CLINIC_ADMIN)
async def proxies_page(ctx: Ctx) -> Response:
    return await _proxies_page(ctx)


@pages.page("/admin/proxies", methods=["POST"], access=Access.CLINIC_ADMIN, name="proxy_add")
async def proxy_add(ctx: Ctx) -> Response:
    try:
        form = parse(proxies.AuthorityForm, ctx.form)
        await proxies.record(ctx.db, form, staff=ctx.me)
    except InvalidInput as exc:
        return await _proxies_page(ctx, exc=exc)
    await ctx.db.commit()
    return redirect(ctx, "/admin/proxies", notice="The authority is recorded.")


@pages.page("/admin/proxies/{authority_id}/end", methods=["POST"], access=Access.CLINIC_ADMIN)
async def proxy_end(ctx: Ctx) -> Response:
    try:
        authority_id = uuid.UUID(ctx.request.path_params["authority_id"])
    except ValueError:
        raise NotFound() from None
    await proxies.end(ctx.db, authority_id, staff=ctx.me)
    await ctx.db.commit()
    return redirect(ctx, "/admin/proxies", notice="The authority has ended.")


# --- staff: a consumer's consents changed on their written request -----------------------------


@pages.page("/admin/consents", access=Access.CLINIC_ADMIN)
async def staff_find(ctx: Ctx) -> Response:
    """Find the consumer whose letter or email asks for a change, by username."""
    username = ctx.request.query_params.get("consumer", "").strip()
    if username:
        found = await consumers.consumer_id(ctx.db, username)
        if found is not None:
            return redirect(ctx, f"/admin/consents/{found}")
    errors = {"consumer": "No consumer of this clinic has this username."} if username else {}
    return render(
        ctx,
        "admin/consents.html",
        status=422 if errors else 200,
        errors=errors,
        values={"consumer": username},
        summary="Please check the username." if errors else None,
        title="A consumer's consents",
    )


@pages.page("/admin/consents/{person_id}", access=Access.CLINIC_ADMIN)
async def staff_view(ctx: Ctx) -> Response:
    person = await my_consents.consumer(ctx.db, ctx.tenant.id, _person_id(ctx))
    return await _page(ctx, person, f"/admin/consents/{person.id}", staff=True)


@pages.page(
    "/admin/consents/{person_id}",
    methods=["POST"],
    access=Access.CLINIC_ADMIN,
    name="staff_change",
)
async def staff_change(ctx: Ctx) -> Response:
    person = await my_consents.consumer(ctx.db, ctx.tenant.id, _person_id(ctx))
    notice = await _change(ctx, person, Method.STAFF_WRITTEN_REQUEST)
    return redirect(ctx, f"/admin/consents/{person.id}", notice=notice)
