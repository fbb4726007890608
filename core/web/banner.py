"""The banner announcing a new version of the clinic's privacy notice to signed-in consumers
until they acknowledge it (P37, P14): looked up on the pages they read, never on a POST."""

from __future__ import annotations

from praxis.core.accounts.models import Role
from praxis.core.privacy import notices
from praxis.core.web.context import Ctx


async def find_privacy_banner(ctx: Ctx) -> None:
    user = ctx.user
    if ctx.request.method != "GET" or user is None or user.role != Role.CONSUMER.value:
        return
    ctx.privacy_banner = await notices.unacknowledged(ctx.db, user, ctx.now)
