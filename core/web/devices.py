"""The device cookie on the web: read at sign-in, renewed after a right password (see
``praxis.core.accounts.devices``)."""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.accounts.devices import KEEP_DAYS, device_token, trusted_device
from praxis.core.accounts.signin import normalise_username
from praxis.core.web.context import DEVICE_COOKIE, Ctx


def known_device(ctx: Ctx, realm: str, username: str) -> str | None:
    """This browser's id, if it signed in to this very account before."""
    sealed = ctx.request.cookies.get(ctx.cookies.name(DEVICE_COOKIE))
    return trusted_device(ctx.rt.keyring, sealed, realm, normalise_username(username))


def remember_device(ctx: Ctx, response: Response, realm: str, username: str) -> None:
    """After a right password: this browser is the account's for ``KEEP_DAYS`` more."""
    username = normalise_username(username)
    device = known_device(ctx, realm, username)
    value = device_token(ctx.rt.keyring, realm, username, device)
    ctx.cookies.set(response, DEVICE_COOKIE, value, max_age=KEEP_DAYS * 86400)
