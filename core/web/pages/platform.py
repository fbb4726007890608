"""The platform operator's pages, served on the platform domain itself."""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response

from praxis.core.errors import NotFound
from praxis.core.providers.common import PLUGIN_API
from praxis.core.providers.kinds import KINDS
from praxis.core.providers.manifest import PLUGIN_KINDS
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, redirect, render
from praxis.tenants import services as tenants
from praxis.tenants.directory import TenantInfo

pages = Pages()
OP = Access.OPERATOR


@pages.page("/", site="platform", name="platform_root")
async def root(ctx: Ctx) -> Response:
    return RedirectResponse("/platform", status_code=303)


@pages.page("/platform", site="platform", access=OP)
async def tenant_list(ctx: Ctx) -> Response:
    found = await tenants.list_tenants(ctx.db)
    return render(ctx, "platform/home.html", tenants=found, title="Tenants")


@pages.page("/platform/plugins", site="platform", access=OP)
async def plugin_list(ctx: Ctx) -> Response:
    """What is installed, and what was left out with the reason (a bad package disables only
    itself)."""
    plugins = ctx.rt.plugins
    return render(
        ctx,
        "platform/plugins.html",
        usable=list(plugins.manifests.values()),
        disabled=list(plugins.disabled.values()),
        words={name: kind.words for name, kind in KINDS.items()},
        api=PLUGIN_API,
        title="Plugins",
    )


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
        providers=await _operator_settings(ctx, TenantInfo.from_row(tenant)),
        platform_domain=ctx.settings.platform_domain,
        title=tenant.name,
    )


async def _operator_settings(
    ctx: Ctx, tenant: TenantInfo, errors: dict[str, dict[str, str]] | None = None
) -> list[dict[str, Any]]:
    """The settings only the operator sets (API base URLs, the platform's keys and fees)."""
    store = ctx.rt.provider_settings
    shown = []
    async with ctx.rt.database.reading(tenant.id) as db:
        for kind in PLUGIN_KINDS:
            chosen = ctx.rt.registry.chosen(tenant, kind)
            if chosen is None:
                continue
            row = await store.row(db, chosen.name)
            shown.append(
                {
                    "kind": kind,
                    "plugin": chosen,
                    "fields": store.form(chosen.settings_model, row, "operator"),
                    "missing": store.status(chosen.settings_model, row, tenant.id),
                    "errors": (errors or {}).get(chosen.name, {}),
                }
            )
    return shown


@pages.page(
    "/platform/tenants/{tenant_id:uuid}/providers/{plugin}",
    methods=["POST"],
    site="platform",
    access=OP,
)
async def operator_settings(ctx: Ctx) -> Response:
    # Read outside the request's write transaction: the settings are written in the tenant's.
    async with ctx.rt.database.reading() as db:
        row = await tenants.tenant_by_id(db, ctx.request.path_params["tenant_id"])
        domains = await tenants.domains_of(db, row.id) if row else []
    if row is None:
        raise NotFound("We could not find that tenant.")
    tenant = TenantInfo.from_row(row)
    plugin = str(ctx.request.path_params["plugin"])
    manifest = ctx.rt.plugins.manifests.get(plugin)
    if manifest is None or ctx.rt.registry.chosen(tenant, manifest.kind) is not manifest:
        raise NotFound("This clinic does not use that plugin.")
    submitted = {k: v for k, v in ctx.form.items() if k != "csrf_token"}
    async with ctx.rt.database.writing(tenant.id) as db:
        errors = await ctx.rt.provider_settings.save(
            db,
            tenant_id=tenant.id,
            plugin=plugin,
            model=manifest.settings_model,
            audience="operator",
            submitted=submitted,
            actor_id=None,
        )
        if not errors:
            await db.commit()
            ctx.rt.registry.forget(tenant.id)
    if errors:
        return render(
            ctx,
            "platform/tenant.html",
            status=422,
            record=row,
            domains=domains,
            providers=await _operator_settings(ctx, tenant, {plugin: errors}),
            platform_domain=ctx.settings.platform_domain,
            title=tenant.name,
            summary="Please correct the settings marked below; nothing was saved.",
        )
    return redirect(
        ctx, f"/platform/tenants/{tenant.id}", notice=f"{manifest.title}: settings saved."
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
