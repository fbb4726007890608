"""The consumer's portal: home, Professionals, free times, the review step, booking, my
appointments. Nothing is held before "Confirm booking" on the review step."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from starlette.responses import Response

from praxis.core.accounts import photos
from praxis.core.accounts.fields import parse
from praxis.core.accounts.professionals import approved_professional, approved_professionals
from praxis.core.booking import diary, policy
from praxis.core.booking import services as booking
from praxis.core.booking.confirmation import diary_version
from praxis.core.booking.forms import BookingRequest, in_diary
from praxis.core.booking.models import AppointmentStatus, ConsultationType
from praxis.core.booking.rows import Bookable
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
        photos=await photos.addresses(ctx.db, [pro.id for pro in found]),
        title="Professionals",
    )


@pages.page("/professionals/{professional_id:uuid}")
async def professional(ctx: Ctx) -> Response:
    pro = await approved_professional(ctx.db, ctx.request.path_params["professional_id"])
    kinds = await diary.consultation_types(ctx.db, pro.id)
    return render(
        ctx,
        "portal/professional.html",
        professional=pro,
        kinds=kinds,
        photo_url=(await photos.addresses(ctx.db, [pro.id])).get(pro.id),
        title=pro.display_name,
    )


@dataclass(frozen=True, slots=True)
class Shown:
    """What the free-times page says of the Professional."""

    id: uuid.UUID
    display_name: str


def first_day(ctx: Ctx) -> date:
    """The day the week shown starts: ``from`` (the day picker), never before today."""
    today = booking.today_in(ctx.tenant)
    try:
        wanted = date.fromisoformat(ctx.request.query_params.get("from", ""))
    except ValueError:
        return today
    return max(wanted, today) if in_diary(wanted) else today


# "00:00" to "23:59": a time's label is looked up, not formatted, hundreds of times a page.
_HOURS = tuple(f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(24 * 60))


@dataclass(frozen=True, slots=True)
class FreeTime:
    start: datetime  # in the clinic's zone
    hour: str  # "09:30"

    @property
    def at(self) -> str:
        """The start as the review step's query parameter (UTC, nothing to escape)."""
        return f"{self.start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


@dataclass(frozen=True, slots=True)
class FreeDay:
    heading: str  # "Monday 7 December 2026"
    times: list[FreeTime]


def by_day(ctx: Ctx, starts: list[datetime]) -> list[FreeDay]:
    """The times grouped by the clinic's day, each labelled once here: a week holds hundreds,
    and formatting each in the template (Babel, per call) cost most of the page."""
    zone, locale = ctx.tenant.zone, ctx.tenant.locale
    days = []
    local = [start.astimezone(zone) for start in starts]
    for day, group in groupby(local, key=datetime.date):
        times = [FreeTime(wall, _HOURS[wall.hour * 60 + wall.minute]) for wall in group]
        days.append(FreeDay(day_heading(day, locale), times))
    return days


@functools.lru_cache(maxsize=4096)
def day_heading(day: date, locale: str) -> str:
    """ "Monday 7 December 2026", as Clock.day says it: Babel once per day and locale."""
    return str(format_date(day, "EEEE d MMMM y", locale=locale))


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


@dataclass(frozen=True, slots=True)
class Week:
    """A week of free times as the page shows it, kept a few seconds in the app's
    ``rt.pages.weeks``: the page a popular Professional's visitors open again and again is
    computed once, not per visitor. Keyed by the diary's version in this process
    (booking.confirmation.diary_version), so a time this process books, moves or frees shows
    at once; the review step and booking check live."""

    kind: Bookable
    days: list[FreeDay]
    soonest: datetime | None
    first_start: datetime | None  # the earliest listed: stale once inside the notice


@pages.page("/professionals/{professional_id:uuid}/book")
async def free_times(ctx: Ctx) -> Response:
    professional_id: uuid.UUID = ctx.request.path_params["professional_id"]
    try:
        type_id = uuid.UUID(ctx.request.query_params.get("type", ""))
    except ValueError:
        found = await approved_professional(ctx.db, professional_id)
        return redirect(ctx, f"/professionals/{found.id}", notice="Choose a consultation first.")
    links = week_links(ctx, first_day(ctx))
    tenant = ctx.tenant
    key = (
        tenant.id,
        tenant.booking,  # a new policy, new providers or a new zone: computed again
        tuple(sorted(tenant.providers.items())),
        tenant.timezone,
        tenant.locale,
        professional_id,
        type_id,
        links["first"],
        diary_version(professional_id),
    )
    notice = timedelta(hours=tenant.booking.minimum_notice_hours)
    weeks = ctx.rt.pages.weeks
    week: Week | None = weeks.get(key, ctx.now)
    if week is None:
        try:
            week = await _week(ctx, professional_id, type_id, links)
        except Conflict as exc:  # not bookable online now: say why, where it was chosen
            kind = await booking.bookable(ctx.db, professional_id, type_id)
            return render(
                ctx,
                "portal/book.html",
                days=[],
                unavailable=exc.message,
                soonest=None,
                professional=Shown(kind.professional_id, kind.professional_name),
                kind=kind,
                title=f"Book {kind.name}",
                **links,
            )
        weeks.put(key, week, stale_at=week.first_start - notice if week.first_start else None)
    kind, soonest = week.kind, week.soonest
    return render(
        ctx,
        "portal/book.html",
        professional=Shown(kind.professional_id, kind.professional_name),
        kind=kind,
        title=f"Book {kind.name}",
        unavailable=None,
        days=week.days,
        soonest=soonest,
        soonest_day=soonest.astimezone(tenant.zone).date() if soonest else None,
        review=f"/professionals/{kind.professional_id}/book/review",
        **links,
    )


async def _week(
    ctx: Ctx, professional_id: uuid.UUID, type_id: uuid.UUID, links: dict[str, Any]
) -> Week:
    """The week's free times, and "next available": the first free time from today (this
    week's first when the week starts today and has one)."""
    # The Professional and the consultation in one query (NotFound if either is not).
    kind = await booking.bookable(ctx.db, professional_id, type_id)
    starts = await booking.free_times_of(
        ctx.db, ctx.tenant, kind, first_day=links["first"], last_day=links["last"], now=ctx.now
    )
    if links["first"] == links["today"] and starts:
        soonest: datetime | None = starts[0]
    else:
        soonest = await booking.first_free(
            ctx.db,
            ctx.tenant,
            kind.professional_id,
            kind.duration_minutes,
            from_day=links["today"],
            now=ctx.now,
        )
    return Week(kind, by_day(ctx, starts), soonest, starts[0] if starts else None)


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
