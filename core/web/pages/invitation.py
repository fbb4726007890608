"""Following a staff invitation: the invitee chooses their username and password, and sets
up their authenticator where staff must use two-step sign-in; someone invited back keeps
their username and chooses a new password (and authenticator). The token travels in the query
string (never logged, as the password reset's) and then in the form body."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from praxis.core.accounts import invitations
from praxis.core.errors import InvalidInput
from praxis.core.web.context import Ctx
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
LABELS = {
    "username": "Username",
    "password": "Password",
    "confirm": "Password again",
    "code": "Code from your authenticator app",
}


async def _page(
    ctx: Ctx,
    token: str,
    row: invitations.StaffInvitation | None,
    *,
    status: int = 200,
    offer: str = "",
    **extra: Any,
) -> Response:
    try:
        returning = await invitations.returning_account(ctx.db, row) if row else None
    except InvalidInput:
        row = None  # the account it invited back is gone, or back already
    if row is None:
        return render(
            ctx,
            "portal/invitation.html",
            status=410,
            valid=False,
            message=invitations.SPENT,
            title="Invitation link not valid",
        )
    two_step = ctx.settings.staff_mfa_required
    secret = ctx.rt.authenticator.offered(row.id, offer) if offer else None
    if two_step and secret is None:
        secret, offer = ctx.rt.authenticator.offer(row.id)
    uri, qr = (
        ctx.rt.authenticator.enrolment(secret, account=row.email, issuer=ctx.tenant.name)
        if secret
        else ("", "")
    )
    return render(
        ctx,
        "portal/invitation.html",
        status=status,
        valid=True,
        token=token,
        invitation=row,
        role=invitations.ROLES[row.role],
        returning=returning,
        two_step=two_step,
        offer=offer,
        secret=secret or "",
        uri=uri,
        qr=qr,
        field_labels=LABELS,
        title="Accept your invitation",
        **extra,
    )


@pages.page("/invitation")
async def invitation_form(ctx: Ctx) -> Response:
    token = ctx.request.query_params.get("token", "")
    return await _page(ctx, token, await invitations.find(ctx.db, token))


@pages.page("/invitation", methods=["POST"], name="accept_invitation")
async def accept_invitation(ctx: Ctx) -> Response:
    form = ctx.form
    token = form.get("token", "")
    answer = invitations.Acceptance(
        username=form.get("username", "")[:200],
        password=form.get("password", "")[:200],
        confirm=form.get("confirm", "")[:200],
        offer=form.get("offer", "")[:600],
        code=form.get("code", "")[:20],
    )
    try:
        user = await invitations.accept(
            ctx.db,
            token,
            answer,
            passwords=ctx.rt.passwords,
            authenticator=ctx.rt.authenticator,
            two_step=ctx.settings.staff_mfa_required,
        )
    except InvalidInput as exc:
        row = await invitations.find(ctx.db, token)
        return await _page(
            ctx,
            token,
            row,
            status=422,
            offer=answer.offer,
            errors=exc.fields,
            summary=exc.message,
            values={"username": answer.username},
        )
    return redirect(
        ctx,
        "/login",
        notice=f"Welcome, {user.full_name}: your account is ready. Sign in with your new password.",
    )
