"""One-time notices after a redirect ("Your appointment is booked."), in a signed cookie."""

from __future__ import annotations

import base64
import hmac

from starlette.responses import Response

from core.web.context import NOTICE_COOKIE, Ctx


def set_notice(ctx: Ctx, response: Response, message: str) -> None:
    body = base64.urlsafe_b64encode(message.encode()).decode()
    signature = ctx.rt.keyring.sign("notice", body)
    ctx.cookies.set(response, NOTICE_COOKIE, f"{body}.{signature}", max_age=60)


def read_notice(ctx: Ctx) -> str | None:
    raw = ctx.request.cookies.get(ctx.cookies.name(NOTICE_COOKIE))
    if not raw or "." not in raw:
        return None
    body, signature = raw.rsplit(".", 1)
    ctx.after.append(lambda response: ctx.cookies.clear(response, NOTICE_COOKIE))
    if not hmac.compare_digest(signature, ctx.rt.keyring.sign("notice", body)):
        return None
    try:
        return base64.urlsafe_b64decode(body.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
