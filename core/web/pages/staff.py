"""Clinic admin: the clinic's staff and their roles; invite a colleague, remove someone."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.accounts import invitations
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
        waiting=await invitations.open_invitations(ctx.db, now=ctx.now),
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


async def _person_page(ctx: Ctx, *, status: int = 200, **extra: object) -> Response:
    person = await people.member(ctx.db, ctx.request.path_params["person_id"])
    return render(
        ctx,
        "admin/staff_person.html",
        status=status,
        title=person.full_name,
        person=person,
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
            ctx.db, person_id, roles, by=ctx.me, confirm_own=ctx.form.get("confirm_own") == "yes"
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
        removed = await people.remove(ctx.db, person_id, by=ctx.me)
    except InvalidInput as exc:
        return await _person_page(ctx, status=422, errors=exc.fields, summary=exc.message)
    await ctx.db.commit()
    notice = f"{removed.full_name} was removed: they can no longer sign in."
    return redirect(ctx, "/admin/staff", notice=notice)
