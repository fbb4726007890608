"""Signing in and out, on tenant sites and the platform site alike."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from praxis.core.accounts import security_log
from praxis.core.accounts.fields import parse
from praxis.core.accounts.forms import Login, SignInCode
from praxis.core.accounts.models import Operator, Role, User
from praxis.core.accounts.security_log import SecurityEventKind as Security
from praxis.core.accounts.signin import (
    WrongCredentials,
    check_second_factor,
    needs_second_factor,
    sign_in,
)
from praxis.core.errors import InvalidInput, TooManyAttempts
from praxis.core.identity import settings as staff_provider
from praxis.core.web import devices
from praxis.core.web.context import Ctx, needs_enrolment
from praxis.core.web.routing import SITES, Pages, form_error, redirect, render, safe_next

pages = Pages()

ENROL_FIRST = "Set up two-step sign-in to continue: staff accounts need it."

HOME_BY_ROLE = {
    Role.CONSUMER: "/appointments",
    Role.PROFESSIONAL: "/workspace",
    Role.CLINIC_ADMIN: "/admin",
    Role.FRONT_DESK: "/desk",
}


def _platform(ctx: Ctx) -> bool:
    return ctx.tenant_or_none is None


def home_of(account: User | Operator) -> str:
    """Where an account lands once signed in."""
    return "/platform" if isinstance(account, Operator) else HOME_BY_ROLE[account.role_enum]


def _realm(ctx: Ctx) -> str:
    return "platform" if _platform(ctx) else str(ctx.tenant.id)


async def _sign_in(ctx: Ctx, form: Login) -> User | Operator:
    realm = _realm(ctx)
    common: dict[str, Any] = {
        "realm": realm,
        "username": form.username,
        "password": form.password,
        "client": ctx.client,
        "passwords": ctx.rt.passwords,
        "throttle": ctx.rt.throttle,
        "device": devices.known_device(ctx, realm, form.username),
    }
    if _platform(ctx):
        return await sign_in(ctx.db, Operator, **common)
    return await sign_in(ctx.db, User, **common)


async def _provider_offered(ctx: Ctx) -> bool:
    """Does this site let people sign in through an OpenID provider (the clinic's for its
    staff, the platform's for operators)?"""
    if _platform(ctx):
        return ctx.rt.platform_provider is not None
    return await staff_provider.offered(ctx.db)


async def _login(ctx: Ctx) -> Response:
    prefix = ctx.prefix
    next_url = ctx.request.query_params.get("next")
    context: dict[str, Any] = {"next": next_url or "", "prefix": prefix, "title": "Sign in"}
    context["provider_offered"] = await _provider_offered(ctx)
    if ctx.request.method == "GET":
        return render(ctx, "portal/login.html", **context)
    try:
        form = parse(Login, ctx.form)
        account = await _sign_in(ctx, form)
    except InvalidInput as exc:
        return form_error(ctx, "portal/login.html", exc, **context)
    except (WrongCredentials, TooManyAttempts) as exc:
        refused = render(
            ctx,
            "portal/login.html",
            status=exc.status,
            summary=exc.message,
            values={"username": ctx.form.get("username", "")},
            **context,
        )
        if isinstance(exc, TooManyAttempts):
            refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    if ctx.token:
        await ctx.sessions.end(ctx.db, ctx.token)  # never reuse a session across sign-ins
    pending = needs_second_factor(account)
    token = await ctx.sessions.start(ctx.db, account, mfa_pending=pending)
    await ctx.db.commit()
    target = safe_next(next_url, home_of(account))
    if pending:
        response = redirect(ctx, f"{prefix}/login/code?next={quote(target, safe='/')}")
    elif needs_enrolment(ctx.settings, account):
        response = redirect(ctx, f"{prefix}/account/security", notice=ENROL_FIRST)
    else:
        response = redirect(ctx, target)
    ctx.sign_in_as(response, token)
    devices.remember_device(ctx, response, _realm(ctx), account.username)
    return response


async def _second_factor(ctx: Ctx) -> Response:
    prefix = ctx.prefix
    account = ctx.pending
    if account is None or ctx.token is None:
        return redirect(ctx, f"{prefix}/login")
    next_url = safe_next(ctx.request.query_params.get("next"), home_of(account))
    context: dict[str, Any] = {"next": next_url, "prefix": prefix, "title": "Two-step sign-in"}
    if ctx.request.method == "GET":
        return render(ctx, "portal/login_code.html", **context)
    try:
        form = parse(SignInCode, ctx.form)
        await check_second_factor(
            ctx.db,
            account,
            form.code,
            ctx.rt.authenticator,
            throttle=ctx.rt.throttle,
            client=ctx.client,
        )
    except InvalidInput as exc:
        return form_error(ctx, "portal/login_code.html", exc, **context)
    except TooManyAttempts as exc:
        refused = render(
            ctx, "portal/login_code.html", status=exc.status, summary=exc.message, **context
        )
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    await ctx.sessions.end(ctx.db, ctx.token)
    token = await ctx.sessions.start(ctx.db, account, mfa_pending=False)
    await ctx.db.commit()
    response = redirect(ctx, next_url)
    ctx.sign_in_as(response, token)
    return response


async def _logout(ctx: Ctx) -> Response:
    if ctx.token:
        await ctx.sessions.end(ctx.db, ctx.token)
        await ctx.db.commit()
    response = redirect(ctx, ctx.prefix or "/", notice="You have signed out.")
    ctx.sign_out(response)
    return response


async def _logout_everywhere(ctx: Ctx) -> Response:
    account = ctx.operator or ctx.user
    assert account is not None
    await ctx.sessions.end_all(ctx.db, account.id)
    if isinstance(account, User):
        security_log.note(ctx.db, Security.SIGNED_OUT_EVERYWHERE, account.id)
    await ctx.db.commit()
    response = redirect(
        ctx, f"{ctx.prefix}/login", notice="You have been signed out on every device."
    )
    ctx.sign_out(response)
    return response


for site, prefix, signed_in in SITES:
    both = ["GET", "POST"]
    pages.page(f"{prefix}/login", methods=both, site=site, name=f"{site}_login")(_login)
    pages.page(
        f"{prefix}/login/code",
        methods=both,
        site=site,
        second_factor_step=True,
        name=f"{site}_login_code",
    )(_second_factor)
    pages.page(
        f"{prefix}/logout",
        methods=["POST"],
        site=site,
        second_factor_step=True,
        enrolment_step=True,
        name=f"{site}_logout",
    )(_logout)
    pages.page(
        f"{prefix}/logout/everywhere",
        methods=["POST"],
        site=site,
        access=signed_in,
        enrolment_step=True,
        name=f"{site}_logout_everywhere",
    )(_logout_everywhere)
