"""The platform operator's pages, served on the platform domain itself."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from core.errors import NotFound
from core.web.context import Access, Ctx
from core.web.routing import Pages, redirect, render
from tenants import services as tenants

pages = Pages()
OP = Access.OPERATOR


@pages.page("/", site="platform", name="platform_root")
async def root(ctx: Ctx) -> Response:
    return RedirectResponse("/platform", status_code=303)


@pages.page("/platform", site="platform", access=OP)
async def tenant_list(ctx: Ctx) -> Response:
    found = await tenants.list_tenants(ctx.db)
    return render(ctx, "platform/home.html", tenants=found, title="Tenants")


@pages.page("/platform/tenants/{tenant_id:uuid}", site="platform", access=OP)
async def tenant_detail(ctx: Ctx) -> Response:
    tenant = await tenants.tenant_by_id(ctx.db, ctx.request.path_params["tenant_id"])
    if tenant is None:
        raise NotFound("We could not find that tenant.")
    domains = await tenants.domains_of(ctx.db, tenant.id)
    return render(
        ctx,
        "platform/tenant.html",
        record=tenant,
        domains=domains,
        platform_domain=ctx.settings.platform_domain,
        title=tenant.name,
    )


async def _verify(ctx: Ctx, *, verified: bool) -> Response:
    tenant_id = ctx.request.path_params["tenant_id"]
    domain = ctx.form.get("domain", "").strip().lower()
    if not await tenants.set_domain_verified(ctx.db, tenant_id, domain, verified=verified):
        raise NotFound("That domain is not one of this tenant's.")
    ctx.rt.directory.forget_all()
    state = "now serves" if verified else "no longer serves"
    return redirect(ctx, f"/platform/tenants/{tenant_id}", notice=f"{domain} {state} this tenant.")


@pages.page(
    "/platform/tenants/{tenant_id:uuid}/domains/verify",
    methods=["POST"],
    site="platform",
    access=OP,
)
async def verify_domain(ctx: Ctx) -> Response:
    return await _verify(ctx, verified=True)


@pages.page(
    "/platform/tenants/{tenant_id:uuid}/domains/unverify",
    methods=["POST"],
    site="platform",
    access=OP,
)
async def unverify_domain(ctx: Ctx) -> Response:
    return await _verify(ctx, verified=False)
