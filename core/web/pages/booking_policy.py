"""Clinic admin -> Booking policy: until when patients may cancel or move, refunds, notice,
how far ahead they may book, the gap between consultations, holds while paying, reminders.
Patients see the policy where they decide: the review step and the cancel page."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.booking import policy
from praxis.core.errors import InvalidInput
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, form_error, redirect, render

pages = Pages()
ADMIN = Access.CLINIC_ADMIN
PAGE = "admin/booking_policy.html"
TITLE = "Booking policy"


@pages.page("/admin/booking-policy", access=ADMIN)
async def booking_policy(ctx: Ctx) -> Response:
    return render(
        ctx,
        PAGE,
        values=policy.values(ctx.tenant.booking),
        labels=policy.FIELD_LABELS,
        field_labels=policy.FIELD_LABELS,
        registered_address=ctx.tenant.controller.address,
        title=TITLE,
    )


@pages.page("/admin/booking-policy", methods=["POST"], access=ADMIN, name="save_booking_policy")
async def save(ctx: Ctx) -> Response:
    try:
        wanted = policy.read_form(ctx.form)
    except InvalidInput as exc:
        return form_error(
            ctx,
            PAGE,
            exc,
            labels=policy.FIELD_LABELS,
            field_labels=policy.FIELD_LABELS,
            registered_address=ctx.tenant.controller.address,
            title=TITLE,
        )
    changed = await policy.save(ctx.db, ctx.tenant.id, wanted, actor=ctx.me.id)
    if not changed:
        return redirect(ctx, "/admin/booking-policy", notice="Nothing changed.")
    await ctx.db.commit()
    ctx.rt.directory.forget_all()  # patients see the new policy at once
    names = ", ".join(policy.FIELD_LABELS[name].lower() for name in changed)
    return redirect(ctx, "/admin/booking-policy", notice=f"Saved: {names}.")
