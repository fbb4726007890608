"""The operator's page for a clinic that leaves the platform (P29): start the exit with the
day sign-in closes and the reason; see when its records will be purged."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from praxis.core.errors import InvalidInput, NotFound
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
    ctx.rt.directory.forget_all()  # this process closes sign-in on the day without waiting
    return redirect(
        ctx,
        f"/platform/tenants/{tenant.id}/exit",
        notice=f"Exit recorded: sign-in to {tenant.name} closes on {record.leaves_on:%d %B %Y}; "
        "its admins are told by email.",
    )
