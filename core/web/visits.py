"""Analytics cookies on a clinic that counts visits (P08): what the visitor chose, remembered
in a strictly necessary cookie (and, for a signed-in consumer, as a consent record, which wins
in every browser); the analytics cookie and the count only after acceptance.

Nothing here runs on a clinic that does not count visits, but clearing a leftover analytics
cookie: the check is one attribute and one cookie lookup on the hot path.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from starlette.responses import Response

from praxis.core.accounts.models import Role
from praxis.core.analytics.counter import page_of
from praxis.core.consents import services as consents
from praxis.core.consents.kinds import ANALYTICS_COOKIES, Method
from praxis.core.consents.services import Whose
from praxis.core.privacy import notices
from praxis.core.web.context import CHOICE_COOKIE, VISITOR_COOKIE, Ctx
from praxis.core.web.cookies import CHOICE_DAYS, VISITOR_DAYS

ACCEPT, REJECT, UNDECIDED = "accept", "reject", "undecided"
CHOICES = (ACCEPT, REJECT)
STAFF_AREAS = ("/admin", "/workspace")  # staff at work are not visitors of the portal
_VISITOR = re.compile(r"^([0-9a-f]{16})\.(\d{8})\.(\d{8})$")


@dataclass(frozen=True)
class Visitor:
    """What the analytics cookie holds: a random id, when it was accepted, the last day seen."""

    id: str
    accepted: date
    seen: date

    @classmethod
    def read(cls, raw: str | None) -> Visitor | None:
        found = _VISITOR.match(raw or "")
        if found is None:
            return None
        try:
            accepted = datetime.strptime(found[2], "%Y%m%d").date()
            seen = datetime.strptime(found[3], "%Y%m%d").date()
        except ValueError:
            return None
        return cls(found[1], accepted, seen)

    def value(self) -> str:
        return f"{self.id}.{self.accepted:%Y%m%d}.{self.seen:%Y%m%d}"


async def find_cookie_choice(ctx: Ctx) -> None:
    """Before the page: accept, reject or undecided, or None where nothing is counted."""
    tenant = ctx.tenant_or_none
    if tenant is None:
        return
    if not tenant.count_visits:
        if ctx.cookies.name(VISITOR_COOKIE) in ctx.request.cookies:
            ctx.after.append(_forget_visitor(ctx))  # the clinic stopped counting
        return
    in_browser = ctx.request.cookies.get(ctx.cookies.name(CHOICE_COOKIE))
    choice = in_browser if in_browser in CHOICES else UNDECIDED
    user = ctx.user
    if user is not None and user.role == Role.CONSUMER.value:
        record = await consents.latest(ctx.db, ANALYTICS_COOKIES, Whose(user.id))
        choice = UNDECIDED if record is None else (ACCEPT if record.given else REJECT)
        if record is not None and in_browser != choice:
            remember(ctx, choice)  # what they chose elsewhere holds in this browser too
    ctx.cookie_choice = choice


def remember(ctx: Ctx, choice: str) -> None:
    """Keep the choice in this browser (the response carries it); nothing where not asked."""
    if not ctx.tenant.count_visits:
        return
    ctx.cookie_choice = choice
    ctx.after.append(
        lambda r: ctx.cookies.set(r, CHOICE_COOKIE, choice, max_age=CHOICE_DAYS * 86400)
    )


async def choose(ctx: Ctx, choice: str) -> bool:
    """The visitor pressed Accept or Reject: remembered here, and for a signed-in consumer
    recorded as their consent (P35), in force in every browser. Returns whether a record was
    written (the caller commits)."""
    remember(ctx, choice)
    user = ctx.user
    if user is None or user.role != Role.CONSUMER.value:
        return False
    return await consents.record(
        ctx.db,
        ANALYTICS_COOKIES,
        Whose(user.id),
        given=choice == ACCEPT,
        method=Method.PORTAL,
        clinic=ctx.tenant.name,
        actor_id=user.id,
        notice_version=await notices.number_in_force(ctx.db, ctx.now),
    )


def count_view(ctx: Ctx, response: Response) -> None:
    """After the page: only with acceptance, set the analytics cookie and count the view
    (day, page and whether the visitor is new today; never who). Otherwise no analytics
    cookie stays."""
    choice = ctx.cookie_choice
    if choice is None:
        return
    raw = ctx.request.cookies.get(ctx.cookies.name(VISITOR_COOKIE))
    if choice != ACCEPT:
        if raw is not None:
            _forget_visitor(ctx)(response)
        return
    path: str = ctx.request.scope["path"]
    if (
        ctx.request.method != "GET"
        or response.status_code != 200
        or response.media_type != "text/html"
        or path.startswith(STAFF_AREAS)
        or (ctx.user is not None and ctx.user.restricted_at is not None)  # no statistics (P34)
    ):
        return
    tenant = ctx.tenant
    today = ctx.now.astimezone(tenant.zone).date()
    visitor = Visitor.read(raw)
    new_today = visitor is None or visitor.seen != today
    if new_today:
        ends = visitor.accepted + timedelta(days=VISITOR_DAYS) if visitor else today
        if visitor is None or ends <= today:  # none yet, or 13 months are up: a new one
            visitor = Visitor(secrets.token_hex(8), today, today)
            ends = today + timedelta(days=VISITOR_DAYS)
        visitor = Visitor(visitor.id, visitor.accepted, today)
        ctx.cookies.set(
            response, VISITOR_COOKIE, visitor.value(), max_age=(ends - today).days * 86400
        )
    ctx.rt.visits.count(tenant.id, today, page_of(path), new_visitor=new_today)


def _forget_visitor(ctx: Ctx) -> Callable[[Response], None]:
    return lambda response: ctx.cookies.clear(response, VISITOR_COOKIE)
