"""A clinic that leaves the platform (P29): the operator's page to start the exit (the day
sign-in closes, the reason), and the clinic admins' page to download everything first."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response, StreamingResponse

from praxis.core.errors import InvalidInput, NotFound
from praxis.core.privacy import clinic_export, staff_exports
from praxis.core.privacy import exit as clinic_exit
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, form_error, redirect, render
from praxis.tenants import services as tenants
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant

pages = Pages()
OP = Access.OPERATOR
PAGE = "platform/exit.html"


async def _tenant(ctx: Ctx) -> Tenant:
    found = await tenants.tenant_by_id(ctx.db, ctx.request.path_params["tenant_id"])
    if found is None:
        raise NotFound("We could not find that tenant.")
    return found


async def _context(ctx: Ctx, tenant: Tenant) -> dict[str, Any]:
    record = await clinic_exit.exit_of(ctx.db, tenant.id)
    months = TenantInfo.from_row(tenant).retention.tenant_exit_months
    purge_on = clinic_exit.purge_after(record.leaves_on, months) if record else None
    return {
        "record": tenant,
        "exit": record,
        "purge_on": purge_on,
        "months": months,
        "title": f"{tenant.name}: clinic exit",
    }


@pages.page("/platform/tenants/{tenant_id:uuid}/exit", site="platform", access=OP)
async def exit_page(ctx: Ctx) -> Response:
    tenant = await _tenant(ctx)
    return render(ctx, PAGE, **await _context(ctx, tenant))


@pages.page("/platform/tenants/{tenant_id:uuid}/exit", methods=["POST"], site="platform", access=OP)
async def start_exit(ctx: Ctx) -> Response:
    tenant = await _tenant(ctx)
    try:
        record = await clinic_exit.start_exit(
            ctx.db,
            tenant,
            leaves_on=ctx.form.get("leaves_on", ""),
            reason=ctx.form.get("reason", ""),
            operator_id=ctx.operator.id if ctx.operator else None,
            today=ctx.now.date(),
        )
    except InvalidInput as exc:
        return form_error(ctx, PAGE, exc, **await _context(ctx, tenant))
    await ctx.db.commit()
    info = TenantInfo.from_row(tenant)  # the clinic's own ledger, in its own transaction
    purge_on = clinic_exit.purge_after(record.leaves_on, info.retention.tenant_exit_months)
    async with ctx.rt.database.writing(tenant.id) as db:
        await clinic_exit.record_exit_started(db, info, record.leaves_on, purge_on, now=ctx.now)
        await db.commit()
    ctx.rt.directory.forget_all()  # this process closes sign-in on the day without waiting
    ctx.rt.pages.directory.forget()  # a leaving clinic leaves the public directory now
    return redirect(
        ctx,
        f"/platform/tenants/{tenant.id}/exit",
        notice=f"Exit recorded: sign-in to {tenant.name} closes on {record.leaves_on:%d %B %Y}; "
        "its admins are told by email.",
    )


# --- the clinic's side: its full export while it can still sign in -------------------------

ADMIN = Access.CLINIC_ADMIN


@pages.page("/admin/exit", access=ADMIN)
async def clinic_exit_page(ctx: Ctx) -> Response:
    var_dir = ctx.settings.var_dir
    leaves_on = ctx.tenant.leaves_on
    months = ctx.tenant.retention.tenant_exit_months
    return render(
        ctx,
        "admin/exit.html",
        leaves_on=leaves_on,
        purge_on=clinic_exit.purge_after(leaves_on, months) if leaves_on else None,
        export=clinic_export.status(var_dir, ctx.tenant.id),
        title="Clinic export and exit",
    )


@pages.page("/admin/exit/export", methods=["POST"], access=ADMIN)
async def request_export(ctx: Ctx) -> Response:
    clinic_export.request(ctx.db, ctx.settings.var_dir, ctx.tenant.id)
    await ctx.db.commit()
    return redirect(
        ctx,
        "/admin/exit",
        notice="The export is being prepared: come back to this page to download it.",
    )


@pages.page("/admin/exit/export.zip", access=ADMIN)
async def download_export(ctx: Ctx) -> Response:
    var_dir = ctx.settings.var_dir
    if clinic_export.status(var_dir, ctx.tenant.id).ready_at is None:
        raise NotFound("There is no export to download yet: prepare one first.")
    await staff_exports.record(
        ctx.rt.database,
        ctx.tenant,
        actor_id=ctx.me.id,
        operation="clinic_export",
        categories=staff_exports.EVERYTHING,
        what="every patient's records, the ledger and billing (the clinic's full export)",
    )
    body = clinic_export.chunks(ctx.rt.database, ctx.rt.data_keys, ctx.tenant.id, var_dir)
    headers = {
        "Content-Disposition": f'attachment; filename="{ctx.tenant.slug}-export.zip"',
        "Cache-Control": "no-store",
    }
    return StreamingResponse(body, media_type="application/zip", headers=headers)
