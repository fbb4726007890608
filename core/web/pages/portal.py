"""The consumer's portal: home, Professionals, free times, booking, my appointments."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from itertools import groupby

from starlette.responses import Response

from praxis.core.accounts.fields import parse
from praxis.core.accounts.professionals import approved_professional, approved_professionals
from praxis.core.booking import diary
from praxis.core.booking import services as booking
from praxis.core.booking.forms import BookingRequest, in_diary
from praxis.core.booking.models import AppointmentStatus
from praxis.core.errors import Conflict, InvalidInput
from praxis.core.web.context import Access, Ctx
from praxis.core.web.rendering import Clock
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
DAYS_SHOWN = 7


@pages.page("/")
async def home(ctx: Ctx) -> Response:
    return render(ctx, "portal/home.html")


@pages.page("/professionals")
async def professionals(ctx: Ctx) -> Response:
    found = await approved_professionals(ctx.db)
    return render(ctx, "portal/professionals.html", professionals=found, title="Professionals")


@pages.page("/professionals/{professional_id:uuid}")
async def professional(ctx: Ctx) -> Response:
    pro = await approved_professional(ctx.db, ctx.request.path_params["professional_id"])
    kinds = await diary.consultation_types(ctx.db, pro.id)
    return render(
        ctx, "portal/professional.html", professional=pro, kinds=kinds, title=pro.display_name
    )


def _first_day(ctx: Ctx) -> date:
    today = booking.today_in(ctx.tenant)
    try:
        wanted = date.fromisoformat(ctx.request.query_params.get("from", ""))
    except ValueError:
        return today
    return max(wanted, today) if in_diary(wanted) else today


@pages.page("/professionals/{professional_id:uuid}/book")
async def free_times(ctx: Ctx) -> Response:
    pro = await approved_professional(ctx.db, ctx.request.path_params["professional_id"])
    try:
        type_id = uuid.UUID(ctx.request.query_params.get("type", ""))
    except ValueError:
        return redirect(ctx, f"/professionals/{pro.id}", notice="Choose a consultation first.")
    kind = await booking.bookable_type(ctx.db, pro.id, type_id)
    first = _first_day(ctx)
    last = first + timedelta(days=DAYS_SHOWN - 1)
    try:
        starts = await booking.slots(
            ctx.db,
            ctx.tenant,
            professional_id=pro.id,
            type_id=kind.id,
            first_day=first,
            last_day=last,
            now=ctx.now,
        )
    except Conflict as exc:  # not bookable online now: say why, where it was chosen
        return render(
            ctx,
            "portal/book.html",
            professional=pro,
            kind=kind,
            days=[],
            unavailable=exc.message,
            first=first,
            last=last,
            previous=None,
            next=None,
            title=f"Book {kind.name}",
        )
    zone = ctx.tenant.zone
    by_day: list[tuple[date, list[datetime]]] = [
        (day, list(group))
        for day, group in groupby(starts, key=lambda s: s.astimezone(zone).date())
    ]
    today = booking.today_in(ctx.tenant)
    return render(
        ctx,
        "portal/book.html",
        professional=pro,
        kind=kind,
        unavailable=None,
        days=by_day,
        first=first,
        last=last,
        previous=first - timedelta(days=DAYS_SHOWN) if first > today else None,
        next=last + timedelta(days=1),
        title=f"Book {kind.name}",
    )


@pages.page(
    "/appointments", methods=["POST"], access=Access.CONSUMER, name="book", one_transaction=True
)
async def book(ctx: Ctx) -> Response:
    try:
        request = parse(BookingRequest, ctx.form, region=ctx.region)
    except InvalidInput:
        return redirect(ctx, "/professionals", notice="Choose a time from the list to book it.")
    back = f"/professionals/{request.professional_id}/book?type={request.consultation_type_id}"
    try:
        appointment = await booking.book(ctx.db, ctx.tenant, ctx.me, request, now=ctx.now)
    except Conflict as exc:
        return redirect(ctx, back, notice=exc.message)
    when = Clock(ctx.tenant).when(appointment.starts_at)
    if appointment.status == AppointmentStatus.AWAITING_PAYMENT.value:
        return redirect(
            ctx,
            f"/appointments/{appointment.id}/pay",
            notice=f"{when} is held for you: please pay to confirm it.",
        )
    return redirect(ctx, "/appointments", notice=f"Your appointment on {when} is booked.")


@pages.page("/appointments", access=Access.CONSUMER)
async def my_appointments(ctx: Ctx) -> Response:
    mine = await booking.consumer_appointments(ctx.db, ctx.me.id)
    upcoming = [a for a in mine if a.status in booking.LIVE and a.ends_at >= ctx.now]
    upcoming.reverse()
    others = [a for a in mine if a not in upcoming]
    return render(
        ctx,
        "portal/appointments.html",
        upcoming=upcoming,
        others=others,
        can_cancel=lambda a: ctx.now <= booking.cancellable_until(ctx.tenant, a),
        title="My appointments",
    )


@pages.page("/appointments/{appointment_id:uuid}/cancel", methods=["POST"], access=Access.CONSUMER)
async def cancel(ctx: Ctx) -> Response:
    appointment_id = ctx.request.path_params["appointment_id"]
    await booking.cancel_by_consumer(ctx.db, ctx.tenant, ctx.me, appointment_id, now=ctx.now)
    return redirect(ctx, "/appointments", notice="Your appointment is cancelled.")
