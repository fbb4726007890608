"""My account: details, sessions, and the two-step sign-in set-up (tenant and platform)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from praxis.core.accounts.fields import parse
from praxis.core.accounts.forms import SecondFactor
from praxis.core.accounts.models import Operator, User
from praxis.core.accounts.signin import begin_enrolment, confirm_enrolment
from praxis.core.errors import InvalidInput
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import SITES, Pages, redirect, render

pages = Pages()


@pages.page("/account", access=Access.SIGNED_IN)
async def account(ctx: Ctx) -> Response:
    sessions = await ctx.rt.user_sessions.count(ctx.db, ctx.me.id)
    return render(ctx, "account/index.html", sessions=sessions, title="Your account")


def _account(ctx: Ctx) -> User | Operator:
    found = ctx.operator or ctx.user
    assert found is not None  # guarded by access
    return found


def _issuer(ctx: Ctx) -> str:
    return ctx.tenant_or_none.name if ctx.tenant_or_none else "Praxis platform"


async def _enrolment_page(
    ctx: Ctx, secret: str, offer: str, *, status: int = 200, **extra: Any
) -> Response:
    account = _account(ctx)
    uri, svg = ctx.rt.authenticator.enrolment(secret, account=account.username, issuer=_issuer(ctx))
    return render(
        ctx,
        "account/security.html",
        status=status,
        secret=secret,
        offer=offer,
        otpauth=uri,
        qr_svg=svg,
        prefix=ctx.prefix,
        title="Two-step sign-in",
        **extra,
    )


async def security(ctx: Ctx) -> Response:
    return render(
        ctx, "account/security.html", secret=None, prefix=ctx.prefix, title="Two-step sign-in"
    )


async def start(ctx: Ctx) -> Response:
    """Show a new secret; nothing changes until a code from it is confirmed."""
    secret, offer = begin_enrolment(_account(ctx), ctx.rt.authenticator)
    return await _enrolment_page(ctx, secret, offer)


async def confirm(ctx: Ctx) -> Response:
    account = _account(ctx)
    offer = ctx.form.get("offer", "")
    try:
        form = parse(SecondFactor, ctx.form)
        await confirm_enrolment(ctx.db, account, offer, form.code, ctx.rt.authenticator)
    except InvalidInput as exc:
        secret = ctx.rt.authenticator.offered(account.id, offer)
        if secret is None:
            return redirect(ctx, f"{ctx.prefix}/account/security", notice=exc.message)
        return await _enrolment_page(
            ctx, secret, offer, status=422, errors=exc.fields, summary=exc.message
        )
    # Sessions signed in with the password alone (before the second factor existed, or
    # with the lost device's) end here; this one, which set it up, carries on.
    await ctx.sessions.end_others(ctx.db, account.id, ctx.token)
    await ctx.db.commit()
    home = "/platform" if isinstance(account, Operator) else "/account"
    return redirect(ctx, home, notice="Two-step sign-in is on. You will be asked for a code.")


for site, prefix, who in SITES:
    base = f"{prefix}/account/security"
    pages.page(base, site=site, access=who, enrolment_step=True, name=f"{site}_security")(security)
    pages.page(
        f"{base}/start",
        methods=["POST"],
        site=site,
        access=who,
        enrolment_step=True,
        name=f"{site}_security_start",
    )(start)
    pages.page(
        f"{base}/confirm",
        methods=["POST"],
        site=site,
        access=who,
        enrolment_step=True,
        name=f"{site}_security_confirm",
    )(confirm)
