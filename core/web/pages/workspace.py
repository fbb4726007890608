"""The Professional's workspace: upcoming consultations, weekly hours (added, edited,
removed), time off and extra hours, consultation types. The diary itself: ``diary.py``."""

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
from praxis.core.errors import Conflict, InvalidInput, NotFound
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
PRO = Access.PROFESSIONAL


async def own_profile(ctx: Ctx) -> Professional:
    profile = await profile_of(ctx.db, ctx.me)
    if profile is None:
        raise NotFound("Your Professional profile is missing; please contact the clinic.")
    return profile


def _path_id(ctx: Ctx, name: str) -> uuid.UUID:
    value: uuid.UUID = ctx.request.path_params[name]
    return value


@pages.page("/workspace", access=PRO)
async def workspace(ctx: Ctx) -> Response:
    profile = await own_profile(ctx)
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
    return await _hours_page(ctx, await own_profile(ctx))


@pages.page("/workspace/hours", methods=["POST"], access=PRO, name="add_hours")
async def add_hours(ctx: Ctx) -> Response:
    profile = await own_profile(ctx)
    try:
        await diary.add_weekly_hours(ctx.db, profile, parse(WeeklyHoursForm, ctx.form))
    except InvalidInput as exc:
        return await _hours_page(
            ctx, profile, errors=exc.fields, summary=exc.message, values=dict(ctx.form)
        )
    return redirect(ctx, "/workspace/hours", notice="Weekly hours added.")


@pages.page("/workspace/hours/{rule_id:uuid}", access=PRO)
async def edit_hours(ctx: Ctx) -> Response:
    profile = await own_profile(ctx)
    rule = await diary.weekly_rule(ctx.db, profile, _path_id(ctx, "rule_id"))
    values = {
        "weekday": str(rule.weekday),
        "starts_at": rule.starts_at.strftime("%H:%M"),
        "ends_at": rule.ends_at.strftime("%H:%M"),
    }
    return render(ctx, "workspace/hours_edit.html", rule=rule, values=values, title="Edit hours")


@pages.page("/workspace/hours/{rule_id:uuid}", methods=["POST"], access=PRO, name="change_hours")
async def change_hours(ctx: Ctx) -> Response:
    profile = await own_profile(ctx)
    rule_id = _path_id(ctx, "rule_id")
    try:
        form = parse(WeeklyHoursForm, ctx.form)
        await diary.change_weekly_hours(ctx.db, profile, rule_id, form)
    except InvalidInput as exc:
        rule = await diary.weekly_rule(ctx.db, profile, rule_id)  # another's: 404, not 422
        return render(
            ctx,
            "workspace/hours_edit.html",
            status=422,
            rule=rule,
            errors=exc.fields,
            summary=exc.message,
            values=dict(ctx.form),
            title="Edit hours",
        )
    return redirect(ctx, "/workspace/hours", notice="Weekly hours changed.")


@pages.page("/workspace/hours/{rule_id:uuid}/remove", methods=["POST"], access=PRO)
async def remove_hours(ctx: Ctx) -> Response:
    await diary.remove_weekly_hours(ctx.db, await own_profile(ctx), _path_id(ctx, "rule_id"))
    return redirect(ctx, "/workspace/hours", notice="Weekly hours removed.")


def _shown(ctx: Ctx) -> list[uuid.UUID]:
    """The consultations the confirmation page listed (ids that do not parse match none)."""
    out = []
    for name, value in ctx.form_items:
        if name == "shown":
            try:
                out.append(uuid.UUID(value))
            except ValueError:
                continue
    return out


@pages.page("/workspace/days", methods=["POST"], access=PRO)
async def add_day_change(ctx: Ctx) -> Response:
    """Time off or extra hours. Time off over booked consultations is first shown with them
    listed; only a second, explicit choice (keep them, or cancel them) saves it."""
    profile = await own_profile(ctx)
    decision = ctx.form.get("decision", "")
    data = {k.removeprefix("day_"): v for k, v in ctx.form.items() if k.startswith("day_")}
    try:
        form = parse(DayChangeForm, data)
        today = booking.today_in(ctx.tenant)
        diary.check_day_change(form, today=today)
        found = await diary.clashes(ctx.db, ctx.tenant, profile, form, now=ctx.now)
        if found and decision not in ("cancel", "keep"):
            return _confirm_page(ctx, found)
        _, cancelled = await diary.save_day_change(
            ctx.db,
            ctx.tenant,
            profile,
            form,
            today=today,
            now=ctx.now,
            by=ctx.me.id,
            shown=_shown(ctx),
            cancel_them=decision == "cancel",
        )
    except InvalidInput as exc:
        fields = {f"day_{k}": v for k, v in exc.fields.items()}
        return await _hours_page(
            ctx, profile, errors=fields, summary=exc.message, values=dict(ctx.form)
        )
    except Conflict as exc:  # raised before anything was written: nothing to undo
        found = await diary.clashes(ctx.db, ctx.tenant, profile, form, now=ctx.now)
        return _confirm_page(ctx, found, changed=exc.message)
    if cancelled:
        return redirect(
            ctx,
            "/workspace/hours",
            notice=f"Time off saved. {len(cancelled)} consultation(s) cancelled: the patients "
            "are told by email and refunded in full.",
        )
    kept = (
        ""
        if not found
        else f" {len(found)} booked consultation(s) kept: please contact the patients."
    )
    return redirect(ctx, "/workspace/hours", notice=f"Date change saved.{kept}")


def _confirm_page(ctx: Ctx, found: list[Any], *, changed: str | None = None) -> Response:
    values = {k: v for k, v in ctx.form.items() if k.startswith("day_")}
    return render(
        ctx,
        "workspace/time_off_confirm.html",
        status=409 if changed else 200,
        found=found,
        changed=changed,
        values=values,
        title="Time off over booked consultations",
    )


@pages.page("/workspace/days/{change_id:uuid}/remove", methods=["POST"], access=PRO)
async def remove_day_change(ctx: Ctx) -> Response:
    await diary.remove_day_change(ctx.db, await own_profile(ctx), _path_id(ctx, "change_id"))
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
    return await _consultations_page(ctx, await own_profile(ctx))


@pages.page("/workspace/consultations", methods=["POST"], access=PRO, name="add_consultation")
async def add_consultation(ctx: Ctx) -> Response:
    profile = await own_profile(ctx)
    try:
        await diary.add_consultation_type(ctx.db, profile, parse(ConsultationTypeForm, ctx.form))
    except InvalidInput as exc:
        return await _consultations_page(
            ctx, profile, errors=exc.fields, summary=exc.message, values=dict(ctx.form)
        )
    return redirect(ctx, "/workspace/consultations", notice="Consultation added.")


@pages.page("/workspace/consultations/{type_id:uuid}/retire", methods=["POST"], access=PRO)
async def retire_consultation(ctx: Ctx) -> Response:
    await diary.retire_consultation_type(ctx.db, await own_profile(ctx), _path_id(ctx, "type_id"))
    return redirect(ctx, "/workspace/consultations", notice="Consultation no longer offered.")
