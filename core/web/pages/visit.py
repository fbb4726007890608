"""One appointment, from the consumer's side: pay (and see the payment arrive), complete the
intake, join the video room, add it to a calendar, move it or cancel it within the policy."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, RedirectResponse, Response

from praxis.core.accounts.fields import parse
from praxis.core.booking import policy
from praxis.core.booking import services as booking
from praxis.core.booking.forms import BookingMove
from praxis.core.booking.models import Appointment, AppointmentStatus
from praxis.core.errors import Conflict, InvalidInput, ProviderNotReady
from praxis.core.intake import services as intake
from praxis.core.notifications import calendar
from praxis.core.payments import services as payments
from praxis.core.payments.models import Payment, PaymentStatus
from praxis.core.privacy import notices
from praxis.core.providers.common import ProviderError
from praxis.core.providers.questionnaires import Question
from praxis.core.video import services as video
from praxis.core.web.context import Access, Ctx
from praxis.core.web.pages.portal import by_day, first_day, week_links
from praxis.core.web.rendering import Clock
from praxis.core.web.routing import Pages, error_page, redirect, render

pages = Pages()
CONSUMER = Access.CONSUMER
# A payment in any of these has reached the clinic: "Pay" is never offered again.
PAID = frozenset(
    {
        PaymentStatus.PAID.value,
        PaymentStatus.HELD.value,
        PaymentStatus.REFUNDED.value,
        PaymentStatus.PARTIALLY_REFUNDED.value,
    }
)


def paid(found: list[Payment]) -> bool:
    return any(p.status in PAID for p in found)


def awaiting(appointment: Appointment, found: list[Payment]) -> bool:
    """Held and not paid yet: the page waits for the provider's word."""
    return appointment.status == AppointmentStatus.AWAITING_PAYMENT.value and not paid(found)


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
    made = await payments.payments_of(db, found.id)
    just_paid = ctx.request.query_params.get("paid") == "1"
    return render(
        ctx,
        "portal/appointment.html",
        a=found,
        intake_due=await intake.outstanding(db, ctx.tenant, ctx.me.id, found.professional_id),
        payments=made,
        paid=paid(made),
        # Back from the provider's page: the payment is pending until its webhook arrives.
        pending=awaiting(found, made) and just_paid,
        can_pay=awaiting(found, made) and not just_paid,
        address=policy.where(ctx.tenant),
        link=link,
        can_cancel=booking.changeable(ctx.tenant, found, ctx.now),
        title="Your appointment",
    )


@pages.page("/appointments/{appointment_id:uuid}/status", access=CONSUMER)
async def status(ctx: Ctx) -> Response:
    """Polled by the appointment page's script while a payment is pending (no personal data)."""
    found = await _mine(ctx)
    made = await payments.payments_of(ctx.db, found.id)
    return JSONResponse(
        {"status": found.status, "settled": not awaiting(found, made)},
        headers={"Cache-Control": "no-store"},
    )


@pages.page("/appointments/{appointment_id:uuid}/calendar.ics", access=CONSUMER)
async def calendar_file(ctx: Ctx) -> Response:
    """ "Add to calendar": the consumer's own appointment as an .ics (anyone else's: 404)."""
    found = await _mine(ctx)
    data = calendar.ics(
        ctx.tenant,
        found,
        link=f"{ctx.site_url}/appointments/{found.id}",
        host=ctx.request.url.hostname or ctx.tenant.slug,
        now=ctx.now,
    )
    return Response(
        data,
        media_type=calendar.CONTENT_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{calendar.FILENAME}"',
            "Cache-Control": "no-store",
        },
    )


def _not_online(ctx: Ctx, found: Appointment, done: str) -> Response:
    """Cancelled already, or past the policy's window: back to the appointment, saying so."""
    notice = f"This appointment cannot be {done} online. Please contact {ctx.tenant.name}."
    return redirect(ctx, f"/appointments/{found.id}", notice=notice)


@pages.page("/appointments/{appointment_id:uuid}/cancel", access=CONSUMER)
async def cancel_page(ctx: Ctx) -> Response:
    """Cancelling asks to confirm, saying what the policy gives back."""
    found = await _mine(ctx)
    if not booking.changeable(ctx.tenant, found, ctx.now):
        return _not_online(ctx, found, "cancelled")
    made = await payments.payments_of(ctx.db, found.id)
    paid_minor = sum(p.amount_minor for p in made if p.status == PaymentStatus.PAID.value)
    refund = policy.refund_due(
        ctx.tenant, found.starts_at, paid_minor, now=ctx.now, by_clinic=False
    )
    return render(
        ctx,
        "portal/cancel.html",
        a=found,
        paid_minor=paid_minor,
        refund=refund,
        terms=policy.terms(ctx.tenant, found.starts_at, found.price_minor),
        title="Cancel your appointment",
    )


async def _move_page(ctx: Ctx, found: Appointment, **extra: Any) -> Response:
    week = week_links(ctx, first_day(ctx))
    starts = await booking.reschedule_times(
        ctx.db, ctx.tenant, found, first_day=week["first"], last_day=week["last"], now=ctx.now
    )
    return render(
        ctx,
        "portal/reschedule.html",
        a=found,
        days=by_day(ctx, starts),
        terms=policy.terms(ctx.tenant, found.starts_at, found.price_minor),
        title="Move your appointment",
        **week,
        **extra,
    )


@pages.page("/appointments/{appointment_id:uuid}/reschedule", access=CONSUMER)
async def reschedule_page(ctx: Ctx) -> Response:
    """Another time for the same appointment, within the policy; its payment stays."""
    found = await _mine(ctx)
    if not booking.changeable(ctx.tenant, found, ctx.now):
        return _not_online(ctx, found, "moved")
    return await _move_page(ctx, found)


@pages.page("/appointments/{appointment_id:uuid}/reschedule", methods=["POST"], access=CONSUMER)
async def reschedule(ctx: Ctx) -> Response:
    appointment_id = _id(ctx)
    try:
        move = parse(BookingMove, ctx.form, region=ctx.region)
    except InvalidInput as exc:
        found = await _mine(ctx)
        return await _move_page(ctx, found, status=422, errors=exc.fields, summary=exc.message)
    try:
        moved = await booking.reschedule(
            ctx.db, ctx.tenant, ctx.me, appointment_id, move.starts_at, now=ctx.now
        )
    except Conflict as exc:
        back = f"/appointments/{appointment_id}/reschedule"
        return redirect(ctx, back, notice=exc.message)
    when = Clock(ctx.tenant).when(moved.starts_at)
    return redirect(
        ctx, f"/appointments/{moved.id}", notice=f"Your appointment is moved to {when}."
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
