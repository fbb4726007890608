"""The Professional's workspace: upcoming consultations, weekly hours, consultation types."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from praxis.core.accounts.fields import parse
from praxis.core.accounts.models import Professional
from praxis.core.accounts.professionals import profile_of
from praxis.core.booking import diary
from praxis.core.booking import services as booking
from praxis.core.booking.forms import ConsultationTypeForm, DayChangeForm, WeeklyHoursForm
from praxis.core.errors import InvalidInput, NotFound
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
PRO = Access.PROFESSIONAL


async def _profile(ctx: Ctx) -> Professional:
    profile = await profile_of(ctx.db, ctx.me)
    if profile is None:
        raise NotFound("Your Professional profile is missing; please contact the clinic.")
    return profile


def _path_id(ctx: Ctx, name: str) -> uuid.UUID:
    value: uuid.UUID = ctx.request.path_params[name]
    return value


@pages.page("/workspace", access=PRO)
async def workspace(ctx: Ctx) -> Response:
    profile = await _profile(ctx)
    upcoming = await booking.professional_appointments(ctx.db, profile, since=ctx.now)
    return render(
        ctx, "workspace/index.html", profile=profile, upcoming=upcoming, title="Workspace"
    )


async def _hours_page(ctx: Ctx, profile: Professional, **extra: Any) -> Response:
    return render(
        ctx,
        "workspace/hours.html",
        status=422 if extra.get("errors") else 200,
        profile=profile,
        weekly=await diary.weekly_hours(ctx.db, profile.id),
        changes=await diary.day_changes(ctx.db, profile.id, since=booking.today_in(ctx.tenant)),
        title="Hours",
        **extra,
    )


@pages.page("/workspace/hours", access=PRO)
async def hours(ctx: Ctx) -> Response:
    return await _hours_page(ctx, await _profile(ctx))


@pages.page("/workspace/hours", methods=["POST"], access=PRO, name="add_hours")
async def add_hours(ctx: Ctx) -> Response:
    profile = await _profile(ctx)
    try:
        await diary.add_weekly_hours(ctx.db, profile, parse(WeeklyHoursForm, ctx.form))
    except InvalidInput as exc:
        return await _hours_page(
            ctx, profile, errors=exc.fields, summary=exc.message, values=dict(ctx.form)
        )
    return redirect(ctx, "/workspace/hours", notice="Weekly hours added.")


@pages.page("/workspace/hours/{rule_id:uuid}/remove", methods=["POST"], access=PRO)
async def remove_hours(ctx: Ctx) -> Response:
    await diary.remove_weekly_hours(ctx.db, await _profile(ctx), _path_id(ctx, "rule_id"))
    return redirect(ctx, "/workspace/hours", notice="Weekly hours removed.")


@pages.page("/workspace/days", methods=["POST"], access=PRO)
async def add_day_change(ctx: Ctx) -> Response:
    profile = await _profile(ctx)
    try:
        form = parse(DayChangeForm, {k.removeprefix("day_"): v for k, v in ctx.form.items()})
        today = booking.today_in(ctx.tenant)
        await diary.add_day_change(ctx.db, profile, form, today=today)
    except InvalidInput as exc:
        fields = {f"day_{k}": v for k, v in exc.fields.items()}
        return await _hours_page(
            ctx, profile, errors=fields, summary=exc.message, values=dict(ctx.form)
        )
    return redirect(ctx, "/workspace/hours", notice="Date change saved.")


@pages.page("/workspace/days/{change_id:uuid}/remove", methods=["POST"], access=PRO)
async def remove_day_change(ctx: Ctx) -> Response:
    await diary.remove_day_change(ctx.db, await _profile(ctx), _path_id(ctx, "change_id"))
    return redirect(ctx, "/workspace/hours", notice="Date change removed.")


async def _consultations_page(ctx: Ctx, profile: Professional, **extra: Any) -> Response:
    return render(
        ctx,
        "workspace/consultations.html",
        status=422 if extra.get("errors") else 200,
        kinds=await diary.consultation_types(ctx.db, profile.id),
        title="Consultations",
        **extra,
    )


@pages.page("/workspace/consultations", access=PRO)
async def consultations(ctx: Ctx) -> Response:
    return await _consultations_page(ctx, await _profile(ctx))


@pages.page("/workspace/consultations", methods=["POST"], access=PRO, name="add_consultation")
async def add_consultation(ctx: Ctx) -> Response:
    profile = await _profile(ctx)
    try:
        await diary.add_consultation_type(ctx.db, profile, parse(ConsultationTypeForm, ctx.form))
    except InvalidInput as exc:
        return await _consultations_page(
            ctx, profile, errors=exc.fields, summary=exc.message, values=dict(ctx.form)
        )
    return redirect(ctx, "/workspace/consultations", notice="Consultation added.")


@pages.page("/workspace/consultations/{type_id:uuid}/retire", methods=["POST"], access=PRO)
async def retire_consultation(ctx: Ctx) -> Response:
    await diary.retire_consultation_type(ctx.db, await _profile(ctx), _path_id(ctx, "type_id"))
    return redirect(ctx, "/workspace/consultations", notice="Consultation no longer offered.")
