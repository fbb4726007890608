"""Every cookie Praxis sets, with why and for how long: /privacy/cookies shows this list and a
test checks that no page sets any other (P08). All but the analytics cookie are strictly
necessary, so no consent is asked for them; the analytics cookie is set only on a clinic that
counts visits, and only after the visitor accepted it."""

from __future__ import annotations

from dataclasses import dataclass

from praxis.core.web.context import (
    CHOICE_COOKIE,
    CSRF_COOKIE,
    DEVICE_COOKIE,
    NOTICE_COOKIE,
    SESSION_COOKIE,
    SIGN_IN_FLOW_COOKIE,
    VISITOR_COOKIE,
)

CHOICE_DAYS = 395  # 13 months: then the visitor is asked again
VISITOR_DAYS = 395  # 13 months at most from acceptance, however often the visitor comes


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str
    lifetime: str
    strictly_necessary: bool = True
    analytics_only: bool = False  # set only where the clinic counts visits


COOKIES = (
    Cookie(
        SESSION_COOKIE,
        "Keeps you signed in. Set only when you sign in; it holds a random key, never your "
        "name or details.",
        "Until you sign out, or at most {absolute} hours (it ends after {idle} minutes "
        "without activity)",
    ),
    Cookie(
        CSRF_COOKIE,
        "Proves a form was sent from this site and not from another one (protection "
        "against cross-site request forgery).",
        "Until you close your browser",
    ),
    Cookie(
        DEVICE_COOKIE,
        "Recognises this browser as one you signed in with, so that wrong passwords typed "
        "by someone else elsewhere do not lock you out. Set only when you sign in; sealed, "
        "it shows nothing readable and works for your account alone.",
        "90 days from your last sign-in",
    ),
    Cookie(
        SIGN_IN_FLOW_COOKIE,
        "Staff only: while you sign in at your clinic's own sign-in provider, links your "
        "return to the sign-in you started here. Sealed; it holds no name or details.",
        "Ten minutes, or until you are back",
    ),
    Cookie(
        NOTICE_COOKIE,
        "Carries a one-line message to the next page, such as “Saved”.",
        "One minute",
    ),
    Cookie(
        CHOICE_COOKIE,
        "Remembers whether you accepted or rejected analytics cookies, so that we do not ask "
        "on every page. It holds only “accept” or “reject”.",
        "13 months from your choice; then we ask again",
        analytics_only=True,
    ),
    Cookie(
        VISITOR_COOKIE,
        "Analytics: lets us count visitors per day without knowing who they are. It holds a "
        "random number and the day you last came, never your name or details; nothing is "
        "sent to anyone else.",
        "At most 13 months from when you accepted; removed at once if you reject",
        strictly_necessary=False,
        analytics_only=True,
    ),
)
NAMES = frozenset(c.name for c in COOKIES)


def listed(*, counts_visits: bool) -> tuple[Cookie, ...]:
    """The cookies a site may set: the analytics ones only where the clinic counts visits."""
    return tuple(c for c in COOKIES if counts_visits or not c.analytics_only)


def lifetime(cookie: Cookie, *, idle_minutes: int, absolute_hours: int) -> str:
    """The lifetime in words, with this platform's session lengths."""
    return cookie.lifetime.format(idle=idle_minutes, absolute=absolute_hours)


def base_name(name: str) -> str:
    """A cookie's name without the __Host- prefix it carries over HTTPS."""
    return name.removeprefix("__Host-")
