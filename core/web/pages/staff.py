"""Clinic admin: the clinic's staff and their roles; invite a colleague, send an invitation
again or cancel it, remove someone and invite them back."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.accounts import invitations, pending_invitations
from praxis.core.accounts import staff as people
from praxis.core.accounts.models import Role
from praxis.core.errors import InvalidInput
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
ADMIN = Access.CLINIC_ADMIN
LABELS = {"roles": "Roles", "confirm_own": "Your own admin role", "role": "Role"}


async def _list(ctx: Ctx, *, status: int = 200, **extra: object) -> Response:
    return render(
        ctx,
        "admin/staff.html",
        status=status,
        title="Staff",
        staff=await people.staff(ctx.db),
        role_names=people.ROLE_NAMES,
        invitations=await pending_invitations.waiting(ctx.db, now=ctx.now),
        valid_days=invitations.VALID_FOR.days,
        field_labels=LABELS,
        **extra,
    )


@pages.page("/admin/staff", access=ADMIN)
async def staff_list(ctx: Ctx) -> Response:
    return await _list(ctx)


@pages.page("/admin/staff/invite", methods=["POST"], access=ADMIN)
async def invite(ctx: Ctx) -> Response:
    form = ctx.form
    try:
        await invitations.invite(
            ctx.db,
            ctx.tenant,
            email=form.get("email", ""),
            full_name=form.get("full_name", ""),
            role=form.get("role", ""),
            invited_by=f"user:{ctx.me.id}",
            now=ctx.now,
        )
    except InvalidInput as exc:
        values = {k: v for k, v in form.items() if k != "csrf_token"}
        return await _list(ctx, status=422, errors=exc.fields, summary=exc.message, values=values)
    await ctx.db.commit()
    name = form.get("full_name", "").strip()
    return redirect(ctx, "/admin/staff", notice=f"{name} was emailed an invitation.")


@pages.page(
    "/admin/staff/invitations/{invitation_id:uuid}/send-again", methods=["POST"], access=ADMIN
)
async def send_again(ctx: Ctx) -> Response:
    invitation_id = ctx.request.path_params["invitation_id"]
    new = await pending_invitations.send_again(
        ctx.db, ctx.tenant, invitation_id, by=ctx.me, now=ctx.now
    )
    name = new.full_name
    await ctx.db.commit()
    notice = f"{name} was emailed a new link; the one sent before no longer works."
    return redirect(ctx, "/admin/staff", notice=notice)


@pages.page("/admin/staff/invitations/{invitation_id:uuid}/cancel", methods=["POST"], access=ADMIN)
async def cancel_invitation(ctx: Ctx) -> Response:
    invitation_id = ctx.request.path_params["invitation_id"]
    name = await pending_invitations.cancel(ctx.db, invitation_id, by=ctx.me, now=ctx.now)
    await ctx.db.commit()
    notice = f"The invitation to {name} was cancelled: its link no longer works."
    return redirect(ctx, "/admin/staff", notice=notice)


async def _person_page(ctx: Ctx, *, status: int = 200, **extra: object) -> Response:
    person = await people.member(ctx.db, ctx.request.path_params["person_id"])
    waiting = await pending_invitations.waiting(ctx.db, now=ctx.now)
    return render(
        ctx,
        "admin/staff_person.html",
        status=status,
        title=person.full_name,
        person=person,
        invited_back=next((w for w in waiting if w.back == person.id), None),
        valid_days=invitations.VALID_FOR.days,
        two_step=ctx.settings.staff_mfa_required,
        role_names=people.ROLE_NAMES,
        field_labels=LABELS,
        **extra,
    )


@pages.page("/admin/staff/{person_id:uuid}", access=ADMIN)
async def person(ctx: Ctx) -> Response:
    return await _person_page(ctx)


@pages.page("/admin/staff/{person_id:uuid}/roles", methods=["POST"], access=ADMIN)
async def change_roles(ctx: Ctx) -> Response:
    person_id = ctx.request.path_params["person_id"]
    await people.member(ctx.db, person_id)  # another clinic's or a patient's id: 404 first
    ticked = [value for name, value in ctx.form_items if name == "roles"]
    try:
        roles = people.chosen_roles(ticked)
        changed = await people.change_roles(
            ctx.db,
            person_id,
            roles,
            by=ctx.me,
            confirm_own=ctx.form.get("confirm_own") == "yes",
            now=ctx.now,
        )
    except InvalidInput as exc:
        return await _person_page(
            ctx, status=422, errors=exc.fields, summary=exc.message, ticked=ticked
        )
    await ctx.db.commit()
    names = ", ".join(people.ROLE_NAMES[r] for r in sorted(changed.roles, key=_order))
    still_admin = changed.has_role(Role.CLINIC_ADMIN) or changed.id != ctx.me.id
    target = "/admin/staff" if still_admin else "/"  # gave up their own: these pages are gone
    return redirect(ctx, target, notice=f"{changed.full_name} is now: {names}.")


def _order(role: Role) -> int:
    return list(people.ROLE_NAMES).index(role)


@pages.page("/admin/staff/{person_id:uuid}/remove", methods=["POST"], access=ADMIN)
async def remove(ctx: Ctx) -> Response:
    person_id = ctx.request.path_params["person_id"]
    try:
        removed = await people.remove(ctx.db, person_id, by=ctx.me, now=ctx.now)
    except InvalidInput as exc:
        return await _person_page(ctx, status=422, errors=exc.fields, summary=exc.message)
    await ctx.db.commit()
    notice = f"{removed.full_name} was removed: they can no longer sign in."
    return redirect(ctx, "/admin/staff", notice=notice)


@pages.page("/admin/staff/{person_id:uuid}/invite-back", methods=["POST"], access=ADMIN)
async def invite_back(ctx: Ctx) -> Response:
    person_id = ctx.request.path_params["person_id"]
    try:
        person = await people.invite_back(ctx.db, ctx.tenant, person_id, by=ctx.me, now=ctx.now)
    except InvalidInput as exc:
        return await _person_page(ctx, status=422, errors=exc.fields, summary=exc.message)
    name = person.full_name
    await ctx.db.commit()
    notice = f"{name} was emailed a link to come back; they stay removed until they use it."
    return redirect(ctx, f"/admin/staff/{person_id}", notice=notice)
