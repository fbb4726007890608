"""My account: details, sessions, the two-step sign-in set-up, recovery codes and the
password (tenant and platform). Each change to how the account signs in asks for the current
password first (praxis.core.accounts.reauth): a stolen session cannot lock the owner out."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from praxis.core.accounts import (
    alerts,
    operator_alerts,
    password_change,
    reauth,
    recovery,
    security_log,
)
from praxis.core.accounts.fields import parse
from praxis.core.accounts.forms import PasswordChange, Reauthenticate, SecondFactor
from praxis.core.accounts.models import Operator, User
from praxis.core.accounts.security_log import SecurityEventKind as Security
from praxis.core.accounts.signin import begin_enrolment, confirm_enrolment
from praxis.core.errors import InvalidInput, TooManyAttempts
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import SITES, Pages, redirect, render

pages = Pages()
SECURITY = "account/security.html"
CODES = "account/recovery_codes.html"
PASSWORD = "account/password.html"  # noqa: S105 (a template's name)


@pages.page("/account", access=Access.SIGNED_IN)
async def account(ctx: Ctx) -> Response:
    sessions = await ctx.rt.user_sessions.count(ctx.db, ctx.me.id)
    return render(
        ctx,
        "account/index.html",
        sessions=sessions,
        by_provider=ctx.second_factor_by_provider,
        title="Your account",
    )


def _account(ctx: Ctx) -> User | Operator:
    found = ctx.operator or ctx.user
    assert found is not None  # guarded by access
    return found


def _home(account: User | Operator) -> str:
    return "/platform" if isinstance(account, Operator) else "/account"


def _issuer(ctx: Ctx) -> str:
    return ctx.tenant_or_none.name if ctx.tenant_or_none else "Praxis platform"


def _security_page(ctx: Ctx, *, status: int = 200, **extra: Any) -> Response:
    return render(
        ctx,
        SECURITY,
        status=status,
        secret=extra.pop("secret", None),
        remaining=recovery.remaining(_account(ctx)),
        prefix=ctx.prefix,
        by_provider=ctx.second_factor_by_provider,
        title="Two-step sign-in",
        **extra,
    )


def _refused(
    ctx: Ctx, template: str, exc: InvalidInput | TooManyAttempts, **extra: Any
) -> Response:
    """The form again with the reason on its field; nothing was changed."""
    if isinstance(exc, TooManyAttempts):
        errors = {reauth.FIELD: exc.message}
        extra |= {"status": exc.status}
    else:
        errors = exc.fields
        extra |= {"status": 422}
    if template == SECURITY:
        response = _security_page(ctx, errors=errors, summary=exc.message, **extra)
    else:
        response = render(ctx, template, errors=errors, summary=exc.message, **extra)
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _confirm_password(ctx: Ctx, account: User | Operator) -> None:
    form = parse(Reauthenticate, ctx.form)
    await reauth.confirm(
        ctx.db,
        account,
        form.current_password,
        passwords=ctx.rt.passwords,
        throttle=ctx.rt.throttle,
        client=ctx.client,
    )


async def _enrolment_page(
    ctx: Ctx, secret: str, offer: str, *, status: int = 200, **extra: Any
) -> Response:
    account = _account(ctx)
    uri, svg = ctx.rt.authenticator.enrolment(secret, account=account.username, issuer=_issuer(ctx))
    return _security_page(
        ctx, status=status, secret=secret, offer=offer, otpauth=uri, qr_svg=svg, **extra
    )


async def security(ctx: Ctx) -> Response:
    return _security_page(ctx)


async def start(ctx: Ctx) -> Response:
    """After the password, show a new secret; nothing changes until a code from it is
    confirmed."""
    account = _account(ctx)
    try:
        await _confirm_password(ctx, account)
    except (InvalidInput, TooManyAttempts) as exc:
        return _refused(ctx, SECURITY, exc)
    secret, offer = begin_enrolment(account, ctx.rt.authenticator)
    return await _enrolment_page(ctx, secret, offer)


async def confirm(ctx: Ctx) -> Response:
    account = _account(ctx)
    offer = ctx.form.get("offer", "")
    try:
        form = parse(SecondFactor, ctx.form)
        codes = await confirm_enrolment(ctx.db, account, offer, form.code, ctx.rt.authenticator)
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
    notice = "Two-step sign-in is on. You will be asked for a code."
    if codes:  # the first set-up: its recovery codes, shown this once
        return _codes_page(ctx, codes, account, notice=notice)
    return redirect(ctx, _home(account), notice=notice)


def _codes_page(
    ctx: Ctx, codes: list[str], account: User | Operator, *, notice: str | None = None
) -> Response:
    return render(
        ctx,
        CODES,
        codes=codes,
        done=notice,
        home=_home(account),
        prefix=ctx.prefix,
        title="Your recovery codes",
    )


async def new_recovery_codes(ctx: Ctx) -> Response:
    """Replace the recovery codes (after the password): the old ones stop working."""
    account = _account(ctx)
    if account.totp_enabled_at is None:
        return redirect(ctx, f"{ctx.prefix}/account/security", notice="Set up two-step first.")
    try:
        await _confirm_password(ctx, account)
    except (InvalidInput, TooManyAttempts) as exc:
        return _refused(ctx, SECURITY, exc)
    codes = recovery.make(account)
    if isinstance(account, User):
        security_log.note(ctx.db, Security.RECOVERY_CODES_MADE, account.id)
        alerts.tell(ctx.db, account.tenant_id, account, alerts.Change.RECOVERY_CODES_MADE)
    else:
        operator_alerts.tell(ctx.db, account, alerts.Change.RECOVERY_CODES_MADE)
    await ctx.db.commit()
    return _codes_page(ctx, codes, account)


async def password_form(ctx: Ctx) -> Response:
    return render(ctx, PASSWORD, prefix=ctx.prefix, title="Change your password")


async def password_save(ctx: Ctx) -> Response:
    account = _account(ctx)
    try:
        form = parse(PasswordChange, ctx.form)
        await password_change.change(
            ctx.db,
            account,
            form,
            passwords=ctx.rt.passwords,
            throttle=ctx.rt.throttle,
            client=ctx.client,
            sessions=ctx.sessions,
            keep=ctx.token,
        )
    except (InvalidInput, TooManyAttempts) as exc:
        return _refused(ctx, PASSWORD, exc, prefix=ctx.prefix, title="Change your password")
    return redirect(
        ctx, _home(account), notice="Your password is changed. Your other devices were signed out."
    )


for site, prefix, who in SITES:
    base = f"{prefix}/account/security"
    pages.page(base, site=site, access=who, enrolment_step=True, name=f"{site}_security")(security)
    for path, handler in (("start", start), ("confirm", confirm)):
        pages.page(
            f"{base}/{path}",
            methods=["POST"],
            site=site,
            access=who,
            enrolment_step=True,
            name=f"{site}_security_{path}",
        )(handler)
    pages.page(
        f"{base}/recovery",
        methods=["POST"],
        site=site,
        access=who,
        name=f"{site}_recovery_codes",
    )(new_recovery_codes)
    pages.page(f"{prefix}/account/password", site=site, access=who, name=f"{site}_password_form")(
        password_form
    )
    pages.page(
        f"{prefix}/account/password",
        methods=["POST"],
        site=site,
        access=who,
        name=f"{site}_password_save",
    )(password_save)
