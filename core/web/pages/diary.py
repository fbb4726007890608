"""The Professional's diary: a day or a week of consultations, with their hours and time off.

``/workspace/diary?view=week&date=2026-12-07`` (both optional: this week). Each
consultation links to its page; cancelled ones are listed apart, past ones marked.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from html import escape  # plain text out: a Markup's own format costs eight times as much

from markupsafe import Markup
from starlette.responses import Response

from praxis.core.accounts.fields import parse
from praxis.core.booking import diary_view
from praxis.core.booking import services as booking
from praxis.core.booking.diary_view import Booked
from praxis.core.booking.forms import DiaryQuery, in_diary
from praxis.core.errors import InvalidInput
from praxis.core.web.context import Access, Ctx
from praxis.core.web.pages.workspace import own_profile
from praxis.core.web.routing import Pages, render

pages = Pages()
AWAITING = "awaiting_payment"
_PAST = ' <span class="tag">(past)</span>'


def _items(booked: Iterable[Booked]) -> Markup:
    """A day's consultations as list items, written here rather than in the template: a full
    week has hundreds, and a template costs several times as much per item (bench/diary_week).
    Patient and consultation names are escaped; the rest is the diary's own words."""
    items = []
    for a in booked:
        state = ", <strong>awaiting payment</strong>" if a.status == AWAITING else ""
        start, past = ('<li class="past">', _PAST) if a.past else ("<li>", "")
        items.append(
            f'{start}<a href="/workspace/appointments/{a.id}">'
            f"{a.when}: {escape(a.patient)}</a>, {escape(a.kind)}, {a.how}{state}{past}</li>"
        )
    return Markup("\n".join(items))  # noqa: S704 - names escaped above, the rest our own words


def _cancelled(booked: Iterable[Booked]) -> Markup:
    items = [
        f'<li><a href="/workspace/appointments/{a.id}"><del>{a.when}: {escape(a.patient)}</del>'
        f'</a>, {escape(a.kind)} <span class="tag">(cancelled)</span></li>'
        for a in booked
    ]
    return Markup("\n".join(items))  # noqa: S704 - names escaped above, the rest our own words


def _link(view: str, day: date) -> str | None:
    return f"/workspace/diary?view={view}&date={day.isoformat()}" if in_diary(day) else None


@pages.page("/workspace/diary", access=Access.PROFESSIONAL)
async def diary(ctx: Ctx) -> Response:
    profile = await own_profile(ctx)
    today = booking.today_in(ctx.tenant)
    raw = dict(ctx.request.query_params)
    errors: dict[str, str] = {}
    try:
        query = parse(DiaryQuery, raw)
    except InvalidInput as exc:  # show this week, and say what was wrong with the choice
        errors = {"date" if k == "date" else "view": v for k, v in exc.fields.items()}
        query = DiaryQuery()
    view, chosen = query.view, query.day or today
    first = chosen if view == "day" else diary_view.week_of(chosen)
    last = first + timedelta(days=0 if view == "day" else 6)
    step = timedelta(days=1 if view == "day" else 7)
    shown = await diary_view.days(ctx.db, ctx.tenant.zone, profile.id, first, last, now=ctx.now)
    return render(
        ctx,
        "workspace/diary.html",
        status=422 if errors else 200,
        view=view,
        first=first,
        last=last,
        days=shown,
        items=_items,
        cancelled=_cancelled,
        previous=_link(view, first - step),
        following=_link(view, first + step),
        this=_link(view, today),
        other_view=_link("week" if view == "day" else "day", chosen),
        errors=errors,
        summary="Please check the date you asked for." if errors else None,
        values={k: v for k, v in raw.items() if k in ("date", "view")},
        title="Diary",
    )
