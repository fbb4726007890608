"""One-time notices after a redirect ("Your appointment is booked."), in a sealed cookie.

Sealed (encrypted and authenticated), not just signed: a notice may name a time
or a person, and cookies should carry nothing readable about anyone.
"""

from __future__ import annotations

from starlette.responses import Response

from praxis.core.web.context import NOTICE_COOKIE, Ctx

_PURPOSE = "notice"


def set_notice(ctx: Ctx, response: Response, message: str) -> None:
    ctx.cookies.set(response, NOTICE_COOKIE, ctx.rt.keyring.seal(_PURPOSE, message), max_age=60)


def read_notice(ctx: Ctx) -> str | None:
    raw = ctx.request.cookies.get(ctx.cookies.name(NOTICE_COOKIE))
    if not raw:
        return None
    ctx.after.append(lambda response: ctx.cookies.clear(response, NOTICE_COOKIE))
    return ctx.rt.keyring.unseal(_PURPOSE, raw)
