"""Sign-in through an OpenID provider: a clinic's staff through the clinic's own (and the clinic
admin's page that sets it up), operators through the platform's (set in the environment)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from praxis.core.accounts.fields import parse
from praxis.core.accounts.models import Operator, User
from praxis.core.errors import InvalidInput, NotFound
from praxis.core.identity import oidc
from praxis.core.identity import settings as provider_settings
from praxis.core.identity.platform import operator_with_email
from praxis.core.identity.staff import staff_with_email
from praxis.core.web import provider_sign_in as flow
from praxis.core.web.context import Access, Ctx
from praxis.core.web.pages.signin import home_of
from praxis.core.web.routing import SITES, Pages, form_error, redirect, render

pages = Pages()
TITLE = "Staff sign-in"
LABELS = {
    "issuer": "Issuer address",
    "client_id": "Client ID",
    "client_secret": "Client secret",
    "email_domain": "Staff email domain",
    "enabled": "Staff may sign in with it",
}


async def _provider(ctx: Ctx) -> oidc.Provider:
    """The clinic's provider on its site, the platform's on the platform's; else 404."""
    found: oidc.Provider | None
    if ctx.tenant_or_none is None:
        found = ctx.rt.platform_provider
    else:
        found = await provider_settings.for_sign_in(ctx.db, ctx.rt.keyring, ctx.tenant.id)
    if found is None:
        raise NotFound("Nobody signs in here through another provider.")
    return found


async def _account(ctx: Ctx, email: str) -> User | Operator:
    if ctx.tenant_or_none is None:
        return await operator_with_email(ctx.db, email)
    return await staff_with_email(ctx.db, email)


async def start(ctx: Ctx) -> Response:
    """Off to the provider."""
    return await flow.send_to_provider(ctx, await _provider(ctx))


async def callback(ctx: Ctx) -> Response:
    """Back from the provider: check everything, then sign in the account it names."""
    provider = await _provider(ctx)
    try:
        identity = await flow.identity_from(ctx, provider)
        account = await _account(ctx, identity.email)
    except oidc.SignInFailed as exc:
        return flow.failed(ctx, exc)
    return await flow.sign_in(ctx, account, identity, home=home_of(account))


for site, prefix, _ in SITES:
    pages.page(f"{prefix}/login/sso", site=site, name=f"{site}_sso")(start)
    pages.page(f"{prefix}{flow.CALLBACK}", site=site, name=f"{site}_sso_callback")(callback)


def _admin_page(ctx: Ctx, row: Any, **extra: Any) -> Response:
    values = extra.pop("values", None) or (
        {
            "issuer": row.issuer,
            "client_id": row.client_id,
            "email_domain": row.email_domain,
            "enabled": "on" if row.enabled else "",
        }
        if row is not None
        else {}
    )
    return render(
        ctx,
        "admin/sign_in.html",
        status=422 if extra.get("errors") else 200,
        stored=row,
        values=values,
        labels=LABELS,
        field_labels=LABELS,
        callback=flow.callback_url(ctx),
        title=TITLE,
        **extra,
    )


@pages.page("/admin/sign-in", methods=["GET", "POST"], access=Access.CLINIC_ADMIN)
async def admin_sign_in(ctx: Ctx) -> Response:
    row = await provider_settings.stored(ctx.db)
    if ctx.request.method == "GET":
        return _admin_page(ctx, row)
    try:
        form = parse(provider_settings.IdentityProviderForm, ctx.form)
        problem = await provider_settings.check_issuer(
            form.issuer,
            policy=ctx.rt.outbound,
            allow_http=ctx.settings.allows_http_links,
            seconds=ctx.settings.provider_timeout_seconds,
        )
        await provider_settings.save(
            ctx.db, ctx.rt.keyring, ctx.tenant.id, form, by=ctx.me.id, issuer_problem=problem
        )
    except InvalidInput as exc:
        return form_error(
            ctx,
            "admin/sign_in.html",
            exc,
            stored=row,
            labels=LABELS,
            field_labels=LABELS,
            callback=flow.callback_url(ctx),
            title=TITLE,
        )
    await ctx.db.commit()
    return redirect(ctx, "/admin/sign-in", notice="Staff sign-in settings saved.")
