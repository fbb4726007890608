"""One appointment, from the consumer's side: pay, complete the intake, join the video room."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from praxis.core.booking import services as booking
from praxis.core.booking.models import Appointment, AppointmentStatus
from praxis.core.errors import InvalidInput, ProviderNotReady
from praxis.core.intake import services as intake
from praxis.core.payments import services as payments
from praxis.core.privacy import notices
from praxis.core.providers.common import ProviderError
from praxis.core.providers.questionnaires import Question
from praxis.core.video import services as video
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, error_page, redirect, render

pages = Pages()
CONSUMER = Access.CONSUMER


def choices(question: Question) -> list[tuple[str, str]]:
    """What a radio group offers: Yes and No, or the question's options."""
    if question.type == "boolean":
        return [("true", "Yes"), ("false", "No")]
    return [(option.code, option.display) for option in question.options]


def _id(ctx: Ctx) -> uuid.UUID:
    value: uuid.UUID = ctx.request.path_params["appointment_id"]
    return value


async def _mine(ctx: Ctx, db: AsyncSession | None = None) -> Appointment:
    return await booking.consumer_appointment(db or ctx.db, ctx.me.id, _id(ctx))


@pages.page("/appointments/{appointment_id:uuid}", access=CONSUMER)
async def appointment(ctx: Ctx) -> Response:
    found = await _mine(ctx)
    db = ctx.db
    link = await video.room_link(db, ctx.rt.keyring, found, "consumer", now=ctx.now)
    return render(
        ctx,
        "portal/appointment.html",
        a=found,
        intake_due=await intake.outstanding(db, ctx.tenant, ctx.me.id, found.professional_id),
        payments=await payments.payments_of(db, found.id),
        link=link,
        just_paid=ctx.request.query_params.get("paid") == "1",
        can_cancel=found.status in booking.LIVE
        and ctx.now <= booking.cancellable_until(ctx.tenant, found),
        title="Your appointment",
    )


@pages.page("/appointments/{appointment_id:uuid}/pay", access=CONSUMER)
async def pay(ctx: Ctx) -> Response:
    """The way to the provider's hosted payment page: a link, as forms may not leave the site."""
    found = await _mine(ctx)
    if found.status != AppointmentStatus.AWAITING_PAYMENT.value:
        return redirect(ctx, f"/appointments/{found.id}")
    try:
        url = await payments.checkout_url(
            ctx.rt.database,
            ctx.providers,
            ctx.tenant,
            ctx.me,
            found.id,
            site_url=ctx.site_url,
            now=ctx.now,
        )
    except ProviderNotReady as exc:
        return error_page(ctx, 409, "Online payment is not available", exc.message)
    except ProviderError:
        return render(ctx, "portal/pay.html", a=found, url=None, status=503, title="Pay")
    return render(ctx, "portal/pay.html", a=found, url=url, title="Pay")


@pages.page("/appointments/{appointment_id:uuid}/intake", access=CONSUMER)
async def intake_form(ctx: Ctx) -> Response:
    found = await _mine(ctx)
    current = await intake.current(ctx.intake)
    return render(
        ctx,
        "portal/intake.html",
        a=found,
        form=current.form,
        prefix=intake.FIELD_PREFIX,
        choices=choices,
        title=current.form.title,
    )


@pages.page("/appointments/{appointment_id:uuid}/intake", methods=["POST"], access=CONSUMER)
async def submit_intake(ctx: Ctx) -> Response:
    appointment_id = _id(ctx)
    try:
        # Read apart from the request's session: the answers are written in a session of
        # their own, and SQLite allows one writer at a time.
        async with ctx.rt.database.reading(ctx.tenant.id) as db:
            notice = await notices.number_in_force(db)
        await intake.submit(ctx.intake, ctx.me, appointment_id, ctx.form, notice_version=notice)
    except InvalidInput as exc:
        current = await intake.current(ctx.intake)
        values = {k: v for k, v in ctx.form.items() if k != "csrf_token"}
        return render(
            ctx,
            "portal/intake.html",
            status=422,
            a=await _mine(ctx),
            form=current.form,
            prefix=intake.FIELD_PREFIX,
            errors=exc.fields,
            values=values,
            summary=exc.message,
            choices=choices,
            title=current.form.title,
        )
    return redirect(
        ctx, f"/appointments/{appointment_id}", notice="Thank you: your answers are saved."
    )


@pages.page("/appointments/{appointment_id:uuid}/join", access=CONSUMER)
async def join(ctx: Ctx) -> Response:
    found = await _mine(ctx)
    back = f"/appointments/{found.id}"
    if await intake.outstanding(ctx.db, ctx.tenant, ctx.me.id, found.professional_id):
        return redirect(
            ctx, f"{back}/intake", notice="Please complete the questionnaire before you join."
        )
    link = await video.room_link(ctx.db, ctx.rt.keyring, found, "consumer", now=ctx.now)
    if link.url is None:
        return redirect(ctx, back, notice="The video room is not open yet.")
    return RedirectResponse(link.url, status_code=303)
