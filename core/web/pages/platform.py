"""The platform operator's pages, served on the platform domain itself."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from praxis.core.accounts import invitations
from praxis.core.clinics import suspension, usage
from praxis.core.clinics.onboarding import onboard
from praxis.core.errors import NotFound
from praxis.core.providers.common import PLUGIN_API
from praxis.core.providers.kinds import KINDS
from praxis.core.providers.manifest import PLUGIN_KINDS
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, redirect, render
from praxis.tenants import services as tenants
from praxis.tenants import verification
from praxis.tenants.directory import TenantInfo
from praxis.tenants.schema import TenantSpec, time_zones

pages = Pages()
OP = Access.OPERATOR
# The form's fields, and where each sits in a TenantSpec (errors are shown on the field).
NEW_CLINIC_FIELDS = {
    "slug": ("slug",),
    "name": ("name",),
    "timezone": ("timezone",),
    "admin_name": ("first_admin", "full_name"),
    "admin_email": ("first_admin", "email"),
    "domain": ("domains", 0),
    "legal_name": ("controller", "legal_name"),
    "address": ("controller", "address"),
    "dpo_contact": ("controller", "dpo_contact"),
    "ico_registration": ("controller", "ico_registration"),
    "email_plugin": ("providers", "email"),
}
NEW_CLINIC_LABELS = {
    "slug": "Web address (slug)",
    "name": "Clinic name",
    "timezone": "Time zone",
    "admin_name": "First clinic admin's full name",
    "admin_email": "First clinic admin's email",
    "domain": "Custom domain",
    "legal_name": "Legal name",
    "address": "Registered address",
    "dpo_contact": "Data protection contact (email)",
    "ico_registration": "ICO registration number",
    "email_plugin": "Email provider",
}


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
    return await _tenant_page(ctx, tenant)


async def _tenant_page(ctx: Ctx, tenant: Any, status: int = 200, **extra: Any) -> Response:
    domains = await tenants.domains_of(ctx.db, tenant.id)
    async with ctx.rt.database.reading(tenant.id) as db:
        waiting = await invitations.open_invitations(db, now=ctx.now)
    context: dict[str, Any] = {
        "invitations": waiting,
        "record": tenant,
        "domains": domains,
        "providers": await _operator_settings(ctx, TenantInfo.from_row(tenant)),
        "platform_domain": ctx.settings.platform_domain,
        "months": await usage.usage(ctx.rt.database, tenant.id, now=ctx.now),
        "health": await usage.health(ctx.rt.database, tenant.id),
        "txt": {
            d.domain: (verification.record_name(d.domain), verification.record_value(d.proof))
            for d in domains
        },
        "domain_errors": {},
        "title": tenant.name,
    }
    return render(ctx, "platform/tenant.html", status=status, **(context | extra))


@pages.page("/platform/tenants/new", site="platform", access=OP)
async def new_tenant_form(ctx: Ctx) -> Response:
    return _new_tenant(ctx, values={"timezone": "Europe/London"})


def _new_tenant(
    ctx: Ctx, *, values: dict[str, str], errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    return render(
        ctx,
        "platform/new_tenant.html",
        status=status,
        values=values,
        errors=errors or {},
        field_labels=NEW_CLINIC_LABELS,
        summary="Please correct the fields marked below; nothing was saved." if errors else None,
        zones=sorted(time_zones()),
        email_plugins=[m for m in ctx.rt.plugins.manifests.values() if m.kind == "email"],
        platform_domain=ctx.settings.platform_domain,
        title="Onboard a clinic",
    )


def _spec_from_form(values: dict[str, str]) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "slug": values.get("slug", ""),
        "name": values.get("name", ""),
        "timezone": values.get("timezone", ""),
        "first_admin": {
            "full_name": values.get("admin_name", ""),
            "email": values.get("admin_email", ""),
        },
        "controller": {
            key: values.get(key, "")
            for key in ("legal_name", "address", "dpo_contact", "ico_registration")
        },
        "domains": [values["domain"]] if values.get("domain") else [],
    }
    if values.get("email_plugin"):
        raw["providers"] = {"email": values["email_plugin"]}
    return raw


def _field_of(loc: tuple[Any, ...]) -> str:
    for name, where in NEW_CLINIC_FIELDS.items():
        if tuple(loc[: len(where)]) == where:
            return name
    return "slug"


@pages.page("/platform/tenants/new", methods=["POST"], site="platform", access=OP)
async def create_tenant(ctx: Ctx) -> Response:
    values = {k: str(ctx.form.get(k, "")).strip() for k in NEW_CLINIC_FIELDS}
    errors: dict[str, str] = {}
    plugin = values.get("email_plugin", "")
    if plugin and getattr(ctx.rt.plugins.manifests.get(plugin), "kind", None) != "email":
        errors["email_plugin"] = "Choose one of the email providers listed."
    try:
        spec = TenantSpec.model_validate(_spec_from_form(values))
    except ValidationError as exc:
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] in ("missing", "string_too_short"):
                message = "This field is required."
            errors.setdefault(_field_of(tuple(error["loc"])), message)
    if errors:
        return _new_tenant(ctx, values=values, errors=errors, status=422)
    try:
        done = await onboard(
            ctx.rt.database,
            spec,
            platform_domain=ctx.settings.platform_domain,
            invited_by=f"operator:{ctx.operator.id if ctx.operator else ''}",
        )
    except tenants.TenantConflict as exc:
        where, _, message = str(exc).partition(": ")
        name = "domain" if where == "domains" else "slug"
        return _new_tenant(ctx, values=values, errors={name: message}, status=422)
    ctx.rt.directory.forget_all()
    return redirect(
        ctx,
        f"/platform/tenants/{done.tenant.id}",
        notice=f"{done.tenant.name} is onboarded; its first admin was emailed an invitation.",
    )


async def _suspend(ctx: Ctx, *, suspended: bool) -> Response:
    tenant_id = ctx.request.path_params["tenant_id"]
    change = suspension.suspend if suspended else suspension.resume
    if not await change(ctx.rt.database, tenant_id):
        raise NotFound("We could not find that tenant.")
    ctx.rt.directory.forget_all()
    ctx.rt.pages.directory.forget()  # off (or back in) the public directory at once here
    ctx.rt.registry.forget(tenant_id)
    notice = (
        "The clinic is suspended: its portal says it is unavailable for now; nothing is deleted."
        if suspended
        else "The clinic is running again: its portal and sign-in are open."
    )
    return redirect(ctx, f"/platform/tenants/{tenant_id}", notice=notice)


@pages.page(
    "/platform/tenants/{tenant_id:uuid}/suspend", methods=["POST"], site="platform", access=OP
)
async def suspend_tenant(ctx: Ctx) -> Response:
    return await _suspend(ctx, suspended=True)


@pages.page(
    "/platform/tenants/{tenant_id:uuid}/resume", methods=["POST"], site="platform", access=OP
)
async def resume_tenant(ctx: Ctx) -> Response:
    return await _suspend(ctx, suspended=False)


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
        return await _tenant_page(
            ctx,
            row,
            status=422,
            providers=await _operator_settings(ctx, tenant, {plugin: errors}),
            summary="Please correct the settings marked below; nothing was saved.",
        )
    return redirect(
        ctx, f"/platform/tenants/{tenant.id}", notice=f"{manifest.title}: settings saved."
    )


@pages.page(
    "/platform/tenants/{tenant_id:uuid}/jobs/retry",
    methods=["POST"],
    site="platform",
    access=OP,
)
async def retry_failed_jobs(ctx: Ctx) -> Response:
    """Once the clinic's settings are complete, its failed jobs (the first admin's invitation
    among them) are tried again."""
    # Read outside the request's write transaction: the jobs are written in the tenant's.
    async with ctx.rt.database.reading() as db:
        record = await tenants.tenant_by_id(db, ctx.request.path_params["tenant_id"])
    if record is None:
        raise NotFound("We could not find that tenant.")
    count = await usage.retry_failed(ctx.rt.database, record.id)
    notice = f"{count} failed job{'' if count == 1 else 's'} will be tried again."
    return redirect(ctx, f"/platform/tenants/{record.id}", notice=notice)


async def _verify(ctx: Ctx, *, verified: bool) -> Response:
    tenant_id = ctx.request.path_params["tenant_id"]
    domain = ctx.form.get("domain", "").strip().lower()
    row = await tenants.domain_of(ctx.db, tenant_id, domain)
    if row is None:
        raise NotFound("That domain is not one of this tenant's.")
    if verified and not await verification.proven(domain, row.proof):
        # Served only once the clinic shows it controls the domain: its DNS carries the proof.
        record = await tenants.tenant_by_id(ctx.db, tenant_id)
        name = verification.record_name(domain)
        return await _tenant_page(
            ctx,
            record,
            status=422,
            domain_errors={
                domain: f"No TXT record at {name} carries the proof yet; "
                "add it and check again (DNS changes may take a while)."
            },
            summary="The domain is not verified; it does not serve the clinic.",
        )
    await tenants.set_domain_verified(ctx.db, tenant_id, domain, verified=verified)
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
