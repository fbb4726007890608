"""Analytics cookies on a clinic that counts visits (P08): what the visitor chose, remembered
in a strictly necessary cookie (and, for a signed-in consumer, as a consent record, which wins
in every browser); the analytics cookie and the count only after acceptance.

Nothing here runs on a clinic that does not count visits, but clearing a leftover analytics
cookie: the check is one attribute and one cookie lookup on the hot path.
"""

from __future__ import annotations

import re
import secrets
import time
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
from praxis.tenants.directory import TenantInfo

ACCEPT, REJECT, UNDECIDED = "accept", "reject", "undecided"
CHOICES = (ACCEPT, REJECT)
STAFF_AREAS = ("/admin", "/workspace")  # staff at work are not visitors of the portal
_VISITOR = re.compile(r"^([0-9a-f]{16})\.(\d{8})\.(\d{8})$")
_VISITOR_LENGTH = 34


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
        try:  # by hand: strptime costs more than the rest of the count
            accepted, seen = (date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in found.group(2, 3))
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
    # A consumer's record is read on the pages they read, not on a form's POST (whose write
    # path stays as short as before); the first page syncs it into this browser anyway.
    if user is not None and user.role == Role.CONSUMER.value and ctx.request.method == "GET":
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
    request = ctx.request
    path: str = request.scope["path"]
    if (
        request.scope["method"] != "GET"
        or response.status_code != 200
        or response.media_type != "text/html"
        or path.startswith(STAFF_AREAS)
        or (ctx.user is not None and ctx.user.restricted_at is not None)  # no statistics (P34)
    ):
        return
    tenant = ctx.tenant
    today, stamp = local_day(tenant)
    # Seen today already (the cookie ends with today): the common case, read no further.
    new_today = raw is None or len(raw) != _VISITOR_LENGTH or not raw.endswith(stamp)
    if new_today:
        _note_day(ctx, response, Visitor.read(raw), today)
    ctx.rt.visits.count(tenant.id, today, page_of(path), new_visitor=new_today)


def _note_day(ctx: Ctx, response: Response, visitor: Visitor | None, today: date) -> None:
    """The analytics cookie says the visitor was counted today; 13 months from acceptance
    at most, then a new one with a new random id."""
    ends = visitor.accepted + timedelta(days=VISITOR_DAYS) if visitor else today
    if visitor is None or ends <= today:
        visitor = Visitor(secrets.token_hex(8), today, today)
        ends = today + timedelta(days=VISITOR_DAYS)
    noted = Visitor(visitor.id, visitor.accepted, today)
    max_age = (ends - today).days * 86400
    ctx.cookies.set(response, VISITOR_COOKIE, noted.value(), max_age=max_age)


# Each time zone's day and its stamp, until its next midnight: one clock read per page.
_DAYS: dict[str, tuple[float, date, str]] = {}


def local_day(tenant: TenantInfo) -> tuple[date, str]:
    """Today in the clinic's time zone, and as the analytics cookie writes it."""
    now = time.time()
    found = _DAYS.get(tenant.timezone)
    if found is None or now >= found[0]:
        zone = tenant.zone
        day = datetime.fromtimestamp(now, zone).date()
        midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
        found = (midnight.timestamp(), day, f"{day:%Y%m%d}")
        _DAYS[tenant.timezone] = found
    return found[1], found[2]


def _forget_visitor(ctx: Ctx) -> Callable[[Response], None]:
    return lambda response: ctx.cookies.clear(response, VISITOR_COOKIE)
