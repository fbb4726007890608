"""Machine endpoints: health, installed plugins, and the tenant's brand stylesheet."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from praxis.core.accounts.models import Role
from praxis.core.runtime import Runtime
from praxis.core.web.api.table import error
from praxis.core.web.context import Ctx
from praxis.core.web.routing import Pages
from praxis.tenants.directory import TenantInfo

pages = Pages()


async def health(request: Request) -> Response:
    """Liveness and database reachability; answered on any host, before tenant lookup."""
    runtime: Runtime = request.app.state.runtime
    try:
        await runtime.database.ping()
    except Exception:  # any failure means "not ready"; details go nowhere public
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def _is_staff(ctx: Ctx) -> bool:
    return ctx.operator is not None or (
        ctx.user is not None and ctx.user.role_enum is Role.CLINIC_ADMIN
    )


async def _plugins(ctx: Ctx) -> Response:
    if not _is_staff(ctx):
        return error(404, "not_found", "Not found.")
    tenant = ctx.tenant_or_none
    chosen = tenant.providers if tenant else {}
    plugins = ctx.rt.plugins
    body = {
        "plugins": [
            manifest.public() | {"enabled": chosen.get(manifest.kind) == manifest.name}
            for manifest in plugins.manifests.values()
        ],
        "disabled": [
            {"name": d.name, "kind": d.kind, "reason": d.reason} for d in plugins.disabled.values()
        ],
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


pages.page("/-/plugins", name="tenant_plugins")(_plugins)
pages.page("/-/plugins", site="platform", name="platform_plugins")(_plugins)


async def brand_css(request: Request) -> Response:
    site = request.scope["state"].get("site")
    if not isinstance(site, TenantInfo):
        return Response("", media_type="text/css")
    branding = site.branding
    css = f":root{{--brand:{branding.primary_colour};--accent:{branding.accent_colour}}}\n"
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=86400"})
