"""Staff sign-in through the clinic's own identity provider (OpenID Connect), and the clinic
admin's page that sets it up."""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response

from praxis.core.accounts import security_log
from praxis.core.accounts.fields import parse
from praxis.core.accounts.security_log import SecurityEventKind as Security
from praxis.core.accounts.signin import needs_second_factor
from praxis.core.db import enter_write_mode
from praxis.core.errors import InvalidInput, NotFound
from praxis.core.identity import oidc
from praxis.core.identity import settings as provider_settings
from praxis.core.identity.staff import staff_with_email
from praxis.core.web.context import SIGN_IN_FLOW_COOKIE, Access, Ctx, needs_enrolment
from praxis.core.web.pages.signin import ENROL_FIRST, HOME_BY_ROLE
from praxis.core.web.routing import Pages, form_error, redirect, render

pages = Pages()
CALLBACK = "/login/sso/callback"
TITLE = "Staff sign-in"
LABELS = {
    "issuer": "Issuer address",
    "client_id": "Client ID",
    "client_secret": "Client secret",
    "email_domain": "Staff email domain",
    "enabled": "Staff may sign in with it",
}


def _purpose(ctx: Ctx) -> str:
    return f"sign-in-flow:{ctx.tenant.id}"


async def _provider(ctx: Ctx) -> provider_settings.ClinicIdentityProvider:
    found = await provider_settings.for_sign_in(ctx.db, ctx.rt.keyring, ctx.tenant.id)
    if found is None:
        raise NotFound("This clinic does not sign in staff through another provider.")
    return found


def _failed(ctx: Ctx, exc: oidc.SignInFailed) -> Response:
    response = render(
        ctx, "portal/sso_failed.html", status=400, reason=exc.message, title="Sign-in failed"
    )
    ctx.cookies.clear(response, SIGN_IN_FLOW_COOKIE)
    return response


@pages.page("/login/sso", access=Access.PUBLIC)
async def start(ctx: Ctx) -> Response:
    """Off to the clinic's provider; the flow's state waits in a sealed cookie."""
    provider = await _provider(ctx)
    ctx.request.scope["session"] = {}
    try:
        async with oidc.client(
            provider, ctx.rt.outbound, seconds=ctx.settings.provider_timeout_seconds
        ) as app:
            location = await oidc.start(app, ctx.request, ctx.site_url + CALLBACK)
    except oidc.SignInFailed as exc:
        return _failed(ctx, exc)
    response = RedirectResponse(location, status_code=303)
    sealed = oidc.seal_flow(ctx.rt.keyring, _purpose(ctx), ctx.request.scope["session"])
    ctx.cookies.set(response, SIGN_IN_FLOW_COOKIE, sealed, max_age=oidc.FLOW_SECONDS)
    return response


@pages.page(CALLBACK, access=Access.PUBLIC)
async def callback(ctx: Ctx) -> Response:
    """Back from the provider: check everything, then sign in the staff member it names."""
    provider = await _provider(ctx)
    sealed = ctx.request.cookies.get(ctx.cookies.name(SIGN_IN_FLOW_COOKIE))
    ctx.request.scope["session"] = oidc.open_flow(ctx.rt.keyring, _purpose(ctx), sealed)
    try:
        async with oidc.client(
            provider, ctx.rt.outbound, seconds=ctx.settings.provider_timeout_seconds
        ) as app:
            identity = await oidc.finish(app, ctx.request, provider)
        account = await staff_with_email(ctx.db, identity.email)
    except oidc.SignInFailed as exc:
        return _failed(ctx, exc)
    # A GET that writes: end the read and take SQLite's write lock before writing, or a write
    # committed meanwhile (the worker's) makes this stale snapshot fail "database is locked".
    await ctx.db.commit()
    enter_write_mode(ctx.db)
    if ctx.token:
        await ctx.sessions.end(ctx.db, ctx.token)  # never reuse a session across sign-ins
    # The platform's own second step, unless the provider says it asked for one itself.
    pending = needs_second_factor(account) and not identity.asserted_second_factor
    token = await ctx.sessions.start(ctx.db, account, mfa_pending=pending)
    security_log.note(ctx.db, Security.SIGNED_IN, account.id, via="provider")
    await ctx.db.commit()
    home = HOME_BY_ROLE[account.role_enum]
    if pending:
        response = redirect(ctx, f"/login/code?next={home}")
    elif needs_enrolment(ctx.settings, account) and not identity.asserted_second_factor:
        response = redirect(ctx, "/account/security", notice=ENROL_FIRST)
    else:
        response = redirect(ctx, home)
    ctx.sign_in_as(response, token)
    ctx.cookies.clear(response, SIGN_IN_FLOW_COOKIE)
    return response


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
        callback=ctx.site_url + CALLBACK,
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
            callback=ctx.site_url + CALLBACK,
            title=TITLE,
        )
    await ctx.db.commit()
    return redirect(ctx, "/admin/sign-in", notice="Staff sign-in settings saved.")
