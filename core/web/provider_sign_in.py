"""Signing in through an OpenID provider, on a clinic's site (its staff, through the clinic's
provider) and on the platform's (operators, through the platform's): one flow, one set of
checks (``praxis.core.identity.oidc``); the pages say only which provider and which account."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import RedirectResponse, Response

from praxis.core.accounts import security_log
from praxis.core.accounts.models import Operator, User
from praxis.core.accounts.security_log import SecurityEventKind as Security
from praxis.core.accounts.signin import needs_second_factor
from praxis.core.db import enter_write_mode
from praxis.core.identity import oidc
from praxis.core.web.context import SIGN_IN_FLOW_COOKIE, Ctx, needs_enrolment
from praxis.core.web.pages.signin import ENROL_FIRST
from praxis.core.web.routing import redirect, render

CALLBACK = "/login/sso/callback"  # under the site's prefix: "" or "/platform"


def _purpose(ctx: Ctx) -> str:
    site = ctx.tenant_or_none
    return f"sign-in-flow:{site.id if site else 'platform'}"


def callback_url(ctx: Ctx) -> str:
    """Where the provider sends people back: the address its client must be registered with."""
    site = ctx.tenant_or_none
    return ctx.settings.site_url(site.slug if site else None) + ctx.prefix + CALLBACK


def failed(ctx: Ctx, exc: oidc.SignInFailed) -> Response:
    response = render(
        ctx,
        "portal/sso_failed.html",
        status=400,
        reason=exc.message,
        prefix=ctx.prefix,
        title="Sign-in failed",
    )
    ctx.cookies.clear(response, SIGN_IN_FLOW_COOKIE)
    return response


async def send_to_provider(ctx: Ctx, provider: oidc.Provider) -> Response:
    """Off to the provider; the flow's state waits in a sealed cookie."""
    ctx.request.scope["session"] = {}
    try:
        async with oidc.client(
            provider, ctx.rt.outbound, seconds=ctx.settings.provider_timeout_seconds
        ) as app:
            location = await oidc.start(app, ctx.request, callback_url(ctx))
    except oidc.SignInFailed as exc:
        return failed(ctx, exc)
    response = RedirectResponse(location, status_code=303)
    sealed = oidc.seal_flow(ctx.rt.keyring, _purpose(ctx), ctx.request.scope["session"])
    ctx.cookies.set(response, SIGN_IN_FLOW_COOKIE, sealed, max_age=oidc.FLOW_SECONDS)
    return response


async def identity_from(ctx: Ctx, provider: oidc.Provider) -> oidc.Identity:
    """Back from the provider: what it vouched for, every check passed (or SignInFailed)."""
    sealed = ctx.request.cookies.get(ctx.cookies.name(SIGN_IN_FLOW_COOKIE))
    ctx.request.scope["session"] = oidc.open_flow(ctx.rt.keyring, _purpose(ctx), sealed)
    async with oidc.client(
        provider, ctx.rt.outbound, seconds=ctx.settings.provider_timeout_seconds
    ) as app:
        return await oidc.finish(app, ctx.request, provider)


async def sign_in(
    ctx: Ctx, account: User | Operator, identity: oidc.Identity, *, home: str
) -> Response:
    """A new session for the account the provider named; the site's own second step first,
    unless the provider says it asked for one itself."""
    # A GET that writes: end the read and take SQLite's write lock before writing, or a write
    # committed meanwhile (the worker's) makes this stale snapshot fail "database is locked".
    await ctx.db.commit()
    enter_write_mode(ctx.db)
    if ctx.token:
        await ctx.sessions.end(ctx.db, ctx.token)  # never reuse a session across sign-ins
    by_provider = identity.asserted_second_factor
    pending = needs_second_factor(account) and not by_provider
    token = await ctx.sessions.start(
        ctx.db, account, mfa_pending=pending, second_factor_by_provider=by_provider
    )
    if isinstance(account, User):
        security_log.note(ctx.db, Security.SIGNED_IN, account.id, via="provider")
    await ctx.db.commit()
    if isinstance(account, Operator):
        security_log.operator_event(Security.SIGNED_IN, account.id, via="provider")
    prefix = ctx.prefix
    if pending:
        response = redirect(ctx, f"{prefix}/login/code?next={quote(home, safe='/')}")
    elif needs_enrolment(ctx.settings, account, second_factor_by_provider=by_provider):
        response = redirect(ctx, f"{prefix}/account/security", notice=ENROL_FIRST)
    else:
        response = redirect(ctx, home)
    ctx.sign_in_as(response, token)
    ctx.cookies.clear(response, SIGN_IN_FLOW_COOKIE)
    return response
