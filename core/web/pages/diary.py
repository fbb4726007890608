"""The Professional's diary: a day or a week of consultations, with their hours and time off.

``/workspace/diary?view=week&date=2026-12-07`` (both optional: this week). Each
consultation links to its page; cancelled ones are listed apart, past ones marked.
"""

from __future__ import annotations

from datetime import date, timedelta

from starlette.responses import Response

from praxis.core.accounts.fields import parse
from praxis.core.booking import diary_view
from praxis.core.booking import services as booking
from praxis.core.booking.forms import DiaryQuery, in_diary
from praxis.core.errors import InvalidInput
from praxis.core.web.context import Access, Ctx
from praxis.core.web.pages.workspace import own_profile
from praxis.core.web.routing import Pages, render

pages = Pages()


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
        previous=_link(view, first - step),
        following=_link(view, first + step),
        this=_link(view, today),
        other_view=_link("week" if view == "day" else "day", chosen),
        errors=errors,
        summary="Please check the date you asked for." if errors else None,
        values={k: v for k, v in raw.items() if k in ("date", "view")},
        title="Diary",
    )
