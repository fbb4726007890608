"""Every cookie Praxis sets, with why and for how long: /privacy/cookies shows this list and a
test checks that no page sets any other (P08). All are strictly necessary, so no consent is
asked; a cookie that is not must wait for consent."""

from __future__ import annotations

from dataclasses import dataclass

from praxis.core.web.context import CSRF_COOKIE, NOTICE_COOKIE, SESSION_COOKIE


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str
    lifetime: str
    strictly_necessary: bool = True


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
        NOTICE_COOKIE,
        "Carries a one-line message to the next page, such as “Saved”.",
        "One minute",
    ),
)
NAMES = frozenset(c.name for c in COOKIES)


def lifetime(cookie: Cookie, *, idle_minutes: int, absolute_hours: int) -> str:
    """The lifetime in words, with this platform's session lengths."""
    return cookie.lifetime.format(idle=idle_minutes, absolute=absolute_hours)


def base_name(name: str) -> str:
    """A cookie's name without the __Host- prefix it carries over HTTPS."""
    return name.removeprefix("__Host-")
