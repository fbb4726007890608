"""The consumer's portal: home, Professionals, free times, the review step, booking, my
appointments. Nothing is held before "Confirm booking" on the review step."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from praxis.core.accounts.fields import parse
from praxis.core.accounts.professionals import approved_professional, approved_professionals
from praxis.core.booking import diary, policy
from praxis.core.booking import services as booking
from praxis.core.booking.forms import BookingRequest, in_diary
from praxis.core.booking.models import AppointmentStatus, ConsultationType
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
    next_free = {
        pro.id: await booking.next_free_of(ctx.db, ctx.tenant, pro.id, now=ctx.now) for pro in found
    }
    return render(
        ctx,
        "portal/professionals.html",
        professionals=found,
        next_free=next_free,
        title="Professionals",
    )


@pages.page("/professionals/{professional_id:uuid}")
async def professional(ctx: Ctx) -> Response:
    pro = await approved_professional(ctx.db, ctx.request.path_params["professional_id"])
    kinds = await diary.consultation_types(ctx.db, pro.id)
    return render(
        ctx, "portal/professional.html", professional=pro, kinds=kinds, title=pro.display_name
    )


def first_day(ctx: Ctx) -> date:
    """The day the week shown starts: ``from`` (the day picker), never before today."""
    today = booking.today_in(ctx.tenant)
    try:
        wanted = date.fromisoformat(ctx.request.query_params.get("from", ""))
    except ValueError:
        return today
    return max(wanted, today) if in_diary(wanted) else today


@dataclass(frozen=True, slots=True)
class FreeTime:
    start: datetime  # UTC
    hour: str  # "09:30", the clinic's time

    @property
    def at(self) -> str:
        """The start as the review step's query parameter (UTC, nothing to escape)."""
        return f"{self.start:%Y-%m-%dT%H:%M:%SZ}"


@dataclass(frozen=True, slots=True)
class FreeDay:
    heading: str  # "Monday 7 December 2026"
    times: list[FreeTime]


def by_day(ctx: Ctx, starts: list[datetime]) -> list[FreeDay]:
    """The times grouped by the clinic's day, each labelled once here: a week holds hundreds,
    and formatting each in the template (Babel, per call) cost most of the page."""
    zone, clock = ctx.tenant.zone, Clock(ctx.tenant)
    days = []
    local = [(start, start.astimezone(zone)) for start in starts]
    for _day, group in groupby(local, key=lambda pair: pair[1].date()):
        times = [FreeTime(start, f"{wall.hour:02d}:{wall.minute:02d}") for start, wall in group]
        days.append(FreeDay(clock.day(times[0].start), times))
    return days


def week_links(ctx: Ctx, first: date) -> dict[str, Any]:
    """The week's bounds, and the weeks before (none before today) and after."""
    today = booking.today_in(ctx.tenant)
    last = first + timedelta(days=DAYS_SHOWN - 1)
    return {
        "first": first,
        "last": last,
        "previous": max(first - timedelta(days=DAYS_SHOWN), today) if first > today else None,
        "next": last + timedelta(days=1),
        "today": today,
        "latest": booking.latest_bookable(ctx.tenant, ctx.now).astimezone(ctx.tenant.zone).date(),
    }


async def _kind(ctx: Ctx, professional_id: uuid.UUID) -> ConsultationType | None:
    try:
        type_id = uuid.UUID(ctx.request.query_params.get("type", ""))
    except ValueError:
        return None
    return await booking.bookable_type(ctx.db, professional_id, type_id)


@pages.page("/professionals/{professional_id:uuid}/book")
async def free_times(ctx: Ctx) -> Response:
    pro = await approved_professional(ctx.db, ctx.request.path_params["professional_id"])
    kind = await _kind(ctx, pro.id)
    if kind is None:
        return redirect(ctx, f"/professionals/{pro.id}", notice="Choose a consultation first.")
    week = week_links(ctx, first_day(ctx))
    shown: dict[str, Any] = {"professional": pro, "kind": kind, "title": f"Book {kind.name}"}
    try:
        starts = await booking.free_times_of(
            ctx.db, ctx.tenant, kind, first_day=week["first"], last_day=week["last"], now=ctx.now
        )
    except Conflict as exc:  # not bookable online now: say why, where it was chosen
        return render(
            ctx, "portal/book.html", days=[], unavailable=exc.message, soonest=None, **week, **shown
        )
    # "Next available": the first free time from today (this week's first if it has one).
    if week["first"] == week["today"] and starts:
        soonest: datetime | None = starts[0]
    else:
        soonest = await booking.first_free(
            ctx.db, ctx.tenant, pro.id, kind.duration_minutes, from_day=week["today"], now=ctx.now
        )
    return render(
        ctx,
        "portal/book.html",
        unavailable=None,
        days=by_day(ctx, starts),
        soonest=soonest,
        soonest_day=soonest.astimezone(ctx.tenant.zone).date() if soonest else None,
        review=f"/professionals/{pro.id}/book/review",
        **week,
        **shown,
    )


def review_link(professional_id: uuid.UUID, type_id: uuid.UUID, start: datetime) -> str:
    query = urlencode({"type": str(type_id), "at": start.isoformat()})
    return f"/professionals/{professional_id}/book/review?{query}"


@pages.page("/professionals/{professional_id:uuid}/book/review", access=Access.CONSUMER)
async def review(ctx: Ctx) -> Response:
    """The review step: who, when, how or where, the price, the policy; nothing held yet."""
    pro = await approved_professional(ctx.db, ctx.request.path_params["professional_id"])
    kind = await _kind(ctx, pro.id)
    if kind is None:
        return redirect(ctx, f"/professionals/{pro.id}", notice="Choose a consultation first.")
    back = f"/professionals/{pro.id}/book?type={kind.id}"
    wanted = {
        "professional_id": str(pro.id),
        "consultation_type_id": str(kind.id),
        "starts_at": ctx.request.query_params.get("at", ""),
    }
    try:
        request = parse(BookingRequest, wanted, region=ctx.region)
    except InvalidInput:
        return redirect(ctx, back, notice="Choose a time from the list to book it.")
    day = request.starts_at.astimezone(ctx.tenant.zone).date()
    try:
        free = await booking.slots(
            ctx.db,
            ctx.tenant,
            professional_id=pro.id,
            type_id=kind.id,
            first_day=day,
            last_day=day,
            now=ctx.now,
        )
    except Conflict as exc:
        return redirect(ctx, back, notice=exc.message)
    if request.starts_at not in free:
        return redirect(ctx, f"{back}&from={day.isoformat()}", notice=booking.SLOT_TAKEN)
    start = request.starts_at
    return render(
        ctx,
        "portal/review.html",
        professional=pro,
        kind=kind,
        start=start,
        end=start + timedelta(minutes=kind.duration_minutes),
        address=policy.where(ctx.tenant),
        terms=policy.terms(ctx.tenant, start, kind.price_minor),
        paying=policy.takes_payment(ctx.tenant, kind.price_minor),
        back=f"{back}&from={day.isoformat()}",
        title="Check and confirm your booking",
    )


@pages.page(
    "/appointments", methods=["POST"], access=Access.CONSUMER, name="book", one_transaction=True
)
async def book(ctx: Ctx) -> Response:
    """ "Confirm booking" on the review step: the time is held or booked only now."""
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
        can_cancel=lambda a: booking.changeable(ctx.tenant, a, ctx.now),
        title="My appointments",
    )


@pages.page("/appointments/{appointment_id:uuid}/cancel", methods=["POST"], access=Access.CONSUMER)
async def cancel(ctx: Ctx) -> Response:
    appointment_id = ctx.request.path_params["appointment_id"]
    await booking.cancel_by_consumer(ctx.db, ctx.tenant, ctx.me, appointment_id, now=ctx.now)
    return redirect(ctx, "/appointments", notice="Your appointment is cancelled.")
