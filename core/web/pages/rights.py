"""A consumer's rights in the portal: correcting their details (P32; for staff, who had the
old data, Art. 19) and downloading everything held about them (P31, P34 portability)."""

from __future__ import annotations

import uuid

from starlette.responses import Response, StreamingResponse

from praxis.core import ledger
from praxis.core.accounts import consumers
from praxis.core.accounts.models import User
from praxis.core.consents import proxies
from praxis.core.errors import InvalidInput
from praxis.core.privacy import correction, export
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, form_error, redirect, render

pages = Pages()
DETAILS = "account/details.html"


def _current(ctx: Ctx) -> dict[str, str]:
    me = ctx.me
    return {name: str(getattr(me, name) or "") for name in correction.FIELD_CATEGORIES}


@pages.page("/account/details", access=Access.CONSUMER)
async def details_form(ctx: Ctx) -> Response:
    return render(ctx, DETAILS, values=_current(ctx), title="Correct your details")


@pages.page("/account/details", methods=["POST"], access=Access.CONSUMER)
async def details_save(ctx: Ctx) -> Response:
    try:
        done = await correction.correct(
            ctx.db,
            ctx.tenant,
            ctx.me,
            ctx.form,
            passwords=ctx.rt.passwords,
            keyring=ctx.rt.keyring,
            region=ctx.region,
        )
    except InvalidInput as exc:
        return form_error(ctx, DETAILS, exc, title="Correct your details")
    if not done.fields:
        return redirect(ctx, "/account", notice="Nothing changed: your details are as they were.")
    await ctx.db.commit()
    return redirect(ctx, "/account", notice="Your details are corrected.")


@pages.page("/account/details/for/{person_id:uuid}", access=Access.CONSUMER)
async def details_form_for(ctx: Ctx) -> Response:
    """A parent or carer corrects the details of someone they act for (P26)."""
    person = await proxies.person_for(ctx.db, ctx.me, ctx.request.path_params["person_id"])
    values = {name: str(getattr(person, name) or "") for name in correction.FIELD_CATEGORIES}
    return render(ctx, DETAILS, values=values, person=person, title=_for(person))


def _for(person: User) -> str:
    return f"Correct the details of {person.full_name}"


@pages.page("/account/details/for/{person_id:uuid}", methods=["POST"], access=Access.CONSUMER)
async def details_save_for(ctx: Ctx) -> Response:
    person = await proxies.person_for(ctx.db, ctx.me, ctx.request.path_params["person_id"])
    try:
        done = await correction.correct(
            ctx.db,
            ctx.tenant,
            person,
            ctx.form,
            passwords=ctx.rt.passwords,
            keyring=ctx.rt.keyring,
            region=ctx.region,
            actor=ctx.me,
            proxy=True,
        )
    except InvalidInput as exc:
        return form_error(ctx, DETAILS, exc, person=person, title=_for(person))
    back = f"/account/privacy/for/{person.id}"
    if not done.fields:
        return redirect(ctx, back, notice="Nothing changed: their details are as they were.")
    await ctx.db.commit()
    return redirect(ctx, back, notice=f"On their behalf, you corrected: {', '.join(done.fields)}.")


STAFF_FORM = "admin/correction_new.html"
RECEIVED = {"email": "By email", "post": "By post", "in_person": "In person"}


@pages.page("/admin/corrections/new", access=Access.CLINIC_ADMIN)
async def staff_form(ctx: Ctx) -> Response:
    """Find the consumer by username, then their details to correct as they asked."""
    username = ctx.request.query_params.get("consumer", "").strip()
    person = await correction.consumer_details(ctx.db, username) if username else None
    errors = {}
    if username and person is None:
        errors = {"consumer": "There is no consumer with that username here."}
    values = {**(person or {}), "consumer": username}
    return render(
        ctx,
        STAFF_FORM,
        status=422 if errors else 200,
        found=person is not None,
        values=values,
        errors=errors,
        received=RECEIVED,
        title="Correct a consumer's details on their request",
    )


@pages.page("/admin/corrections/new", methods=["POST"], access=Access.CLINIC_ADMIN)
async def staff_save(ctx: Ctx) -> Response:
    try:
        _, done = await correction.correct_on_request(
            ctx.db,
            ctx.tenant,
            ctx.me,
            ctx.form,
            passwords=ctx.rt.passwords,
            keyring=ctx.rt.keyring,
            region=ctx.region,
        )
    except InvalidInput as exc:
        title = "Correct a consumer's details on their request"
        return form_error(ctx, STAFF_FORM, exc, found=True, received=RECEIVED, title=title)
    if not done.fields:
        return redirect(ctx, "/admin/corrections", notice="Nothing changed: the details match.")
    await ctx.db.commit()
    return redirect(ctx, "/admin/corrections", notice=f"Corrected, as ledger entry {done.seq}.")


@pages.page("/admin/corrections", access=Access.CLINIC_ADMIN)
async def corrections(ctx: Ctx) -> Response:
    username = ctx.request.query_params.get("consumer", "").strip()
    subject = None
    if username:  # one consumer's corrections; an unknown username matches none
        subject = await consumers.consumer_id(ctx.db, username) or uuid.UUID(int=0)
    found = await correction.corrections(ctx.db, subject_id=subject)
    return render(
        ctx,
        "admin/corrections.html",
        records=found,
        consumer=username,
        words=ledger.CATEGORY_WORDS,
        title="Corrections to tell recipients about",
    )


@pages.page("/account/export", access=Access.CONSUMER)
async def export_page(ctx: Ctx) -> Response:
    found = await export.mine(ctx.db, ctx.me.id, now=ctx.now)
    return render(
        ctx,
        "account/export.html",
        exports=found,
        valid_days=export.VALID_FOR.days,
        title="Download my data",
    )


@pages.page("/account/export", methods=["POST"], access=Access.CONSUMER)
async def export_ask(ctx: Ctx) -> Response:
    asked = await export.request(ctx.db, ctx.tenant, ctx.me, now=ctx.now)
    small = await export.size_of_history(ctx.db, ctx.me.id) <= export.BUILT_AT_ONCE
    await ctx.db.commit()
    if small:  # the worker's own code path, run now: the job then finds it built
        if await export.prepare(ctx.rt.database, ctx.rt.data_keys, ctx.tenant, asked.id):
            return redirect(ctx, "/account/export", notice="Your download is ready below.")
        return redirect(ctx, "/account/export", notice="See the state of your download below.")
    return redirect(
        ctx,
        "/account/export",
        notice="We are preparing your download. Come back to this page in a few minutes.",
    )


@pages.page("/account/export/{export_id:uuid}/download", access=Access.CONSUMER)
async def export_download(ctx: Ctx) -> Response:
    export_id: uuid.UUID = ctx.request.path_params["export_id"]
    tenant, rt = ctx.tenant, ctx.rt
    async with rt.database.writing(tenant.id) as db:
        found = await export.ready_for(db, ctx.me.id, export_id, now=ctx.now)
        await export.record_download(db, found, actor_id=ctx.me.id, now=ctx.now)
        await db.commit()
    name = f"my-data-{tenant.slug}-{ctx.now:%Y-%m-%d}.zip"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    }
    body = export.chunks(rt.database, rt.data_keys, tenant.id, export_id)
    return StreamingResponse(body, media_type="application/zip", headers=headers)
