"""Every route of the app, asked by every kind of visitor, with own, other and guessed ids.

The routes are read from the built app (the API's and any other mount expanded), so a new
route is asked too; tests/route_classes.py says who may use each, and a route missing there
fails ``test_every_route_is_classified``. Then clinic A's site (and the platform's) is
asked every route by: nobody, A's consumer, Professional, front desk and admin, B's admin
with B's session cookie, and a platform operator. Path ids are filled three ways: one of A's
("own"), the same kind of id of clinic B ("other") and a random one ("guessed").

What must hold, route by route: never a 5xx; a visitor the table does not admit is refused
(a page: 303 to sign in, 403 or 404; the API: 401, 403 or 404 in its error shape) before
any message about the body; an admitted one gets 404 for B's ids and guessed ones, exactly
as for each other; and nothing of clinic B ever shows on A's site (P27).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from praxis.core.accounts.models import Role
from praxis.core.booking.models import WeeklyAvailability
from praxis.core.outbox import OutboxJob
from praxis.core.runtime import Runtime
from praxis.core.sandbox.mount import PREFIX as SANDBOX
from tests.conftest import BACKENDS, client_for
from tests.functional.flows import free_slot, signed_in
from tests.functional.test_staff import make_staff
from tests.route_classes import ROUTES, Rule, Who
from tests.support import Clinic, book_by_form, csrf_in, login, make_operator

P27 = pytest.mark.promise("P27")
PLATFORM_HOST = "localhost"
API = "/api/v1/"
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")

# Mounts that are not the app's own pages, and why they are not asked.
NOT_ASKED = {
    "/static": "the package's CSS and images: the same files for everyone",
    SANDBOX: "the fake providers of the development sandbox: never mounted outside development",
}

# Query parameters a route requires, filled like its path (the ids of the same clinic).
QUERIES = {"/api/v1/professionals/{professional_id:uuid}/slots": "?consultation_type_id={type_id}"}

# Asked last of each visitor: each ends the session the other requests go with.
SIGNS_OUT = {
    ("POST", "/logout"),
    ("POST", "/logout/everywhere"),
    ("POST", "/platform/logout"),
    ("POST", "/platform/logout/everywhere"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/logout-everywhere"),
}

# Who each visitor is, and which of the table's classes admit them on each site.
VISITORS = (
    "anonymous",
    "consumer",
    "professional",
    "front_desk",
    "other_admin",
    "operator",
    "admin",
)
ADMITS: dict[Who, set[str]] = {
    Who.PUBLIC: set(VISITORS),
    Who.SIGNED_IN: {"consumer", "professional", "front_desk", "admin"},
    Who.CONSUMER: {"consumer"},
    Who.PROFESSIONAL: {"professional"},
    Who.STAFF: {"professional", "admin"},
    Who.CLINIC_ADMIN: {"admin"},
    Who.FRONT_DESK: {"front_desk", "admin"},
    Who.OPERATOR: {"operator"},
    Who.WEBHOOK: set(),
}


def endpoints(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path template) of every route, mounted routers expanded; HEAD is GET's."""
    for route in routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield method, prefix + route.path
        elif isinstance(route, Mount):
            path = prefix + route.path
            if isinstance(route.app, StaticFiles) or any(
                path.startswith(skipped) for skipped in NOT_ASKED
            ):
                continue
            assert route.routes, f"the mount {path} has no routes to ask: classify what it serves"
            yield from endpoints(route.routes, path)
        else:
            raise AssertionError(f"{route!r} is neither a route nor a mount: classify it")


def test_every_route_is_classified(app: Any) -> None:
    served = set(endpoints(app.routes))
    unclassified = sorted(served - ROUTES.keys())
    gone = sorted(ROUTES.keys() - served)
    assert not unclassified, f"add these routes to tests/route_classes.py: {unclassified}"
    assert not gone, f"these routes of tests/route_classes.py no longer exist: {gone}"


@dataclass
class Visitor:
    """A browser's cookies and form token on one host, sent by hand: the session cookie of
    B's admin must reach A's site, and no answer may change what the next request sends."""

    cookies: dict[str, str]
    csrf: str = ""

    def headers(self, method: str, api: bool) -> dict[str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if method != "GET" and api:
            headers["X-CSRF-Token"] = self.csrf
        return headers


@dataclass
class Ids:
    """Values for each path parameter: A's own, B's and guessed (left out: there is none)."""

    own: dict[str, str]
    other: dict[str, str]
    guessed: dict[str, str] = field(default_factory=dict)


async def _rule_id(rt: Runtime, clinic: Clinic) -> str:
    async with rt.database.reading(clinic.tenant.id) as db:
        return str(await db.scalar(select(WeeklyAvailability.id).limit(1)))


async def _job_id(rt: Runtime, clinic: Clinic) -> str | None:
    async with rt.database.reading(clinic.tenant.id) as db:
        found = await db.scalar(select(OutboxJob.id).limit(1))
        return str(found) if found else None


async def _ids(rt: Runtime, a: Clinic, b: Clinic, booked: dict[str, uuid.UUID]) -> Ids:
    def of(clinic: Clinic) -> dict[str, str]:
        return {
            "professional_id": str(clinic.professional_id),
            "appointment_id": str(booked[clinic.tenant.slug]),
            "person_id": str(clinic.consumer.id),
            "type_id": str(clinic.kinds["Standard"]),
        }

    own, other = of(a), of(b)
    own["rule_id"], other["rule_id"] = await _rule_id(rt, a), await _rule_id(rt, b)
    for ids, clinic in ((own, a), (other, b)):
        job = await _job_id(rt, clinic)
        if job:
            ids["job_id"] = job
    # Names, not ids: the same on every clinic, so "other" is "own".
    names = {"plugin": "payments_stripe", "kind": "video", "topic": "events", "number": "1"}
    own["slug"], other["slug"] = a.tenant.slug, b.tenant.slug  # a clinic in the directory
    own |= names | {"tenant_id": str(a.tenant.id)}
    other |= names | {"tenant_id": str(a.tenant.id)}  # an operator's is every clinic
    guessed = {"plugin": "no_such_plugin", "kind": "teleport", "topic": "events"}
    guessed |= {"number": "9999", "token": "not-a-link-we-sent"}
    return Ids(own, other, guessed)


def variants(path: str, ids: Ids) -> dict[str, str]:
    """The path as asked with own, other and guessed values (only those there are)."""
    path += QUERIES.get(path, "")
    if not _PARAM.search(path):
        return {"own": path}
    guessed = {name: str(uuid.uuid4()) for name in _PARAM.findall(path)} | ids.guessed
    found = {
        "own": fill(path, ids.own),
        "other": fill(path, ids.other),
        "guessed": fill(path, guessed),
    }
    if found["other"] == found["own"]:
        del found["other"]  # only names in the path: B's are A's
    return {variant: url for variant, url in found.items() if url is not None}


def fill(path: str, values: dict[str, str]) -> str | None:
    """The path with each parameter filled in, or None when a value is missing."""
    if any(name not in values for name in _PARAM.findall(path)):
        return None
    return _PARAM.sub(lambda m: values[m.group(1)], path)


def admitted(rule: Rule, platform_site: bool) -> tuple[Who | None, set[str]]:
    """Whom the rule admits on this site; the tests run outside development."""
    who = rule.platform if platform_site else rule.clinic
    if rule.development_only:
        return None, set()
    return who, ADMITS[who] if who is not None else set()


def refused(response: httpx.Response, *, api: bool, webhook: bool) -> bool:
    """Turned away before anything happened: sign in, not for you, or no such page."""
    status = response.status_code
    if api:
        shaped = response.headers.get("content-type", "").startswith("application/json")
        return status in {401, 403, 404} and shaped and "error" in response.json()
    if webhook:
        return status in {400, 404}  # an unsigned body is rejected, an unknown plugin unknown
    return _to_sign_in(response) or status in {403, 404}


def _cookies(client: httpx.AsyncClient) -> dict[str, str]:
    return {cookie.name: cookie.value for cookie in client.cookies.jar}


async def _sign_in(app: Any, host: str, username: str, prefix: str = "") -> dict[str, str]:
    async with client_for(app, host) as http:
        await login(http, username, prefix=prefix)
        return _cookies(http)


async def _with_form_token(http: httpx.AsyncClient, cookies: dict[str, str], page: str) -> Visitor:
    """The visitor as this host sees them: the form token it gives them (and its cookie)."""
    visitor = Visitor(dict(cookies))
    shown = await http.get(page, headers=visitor.headers("GET", api=False))
    visitor.cookies |= {k: v for k, v in shown.cookies.items() if k.endswith("csrf")}
    visitor.csrf = csrf_in(shown.text)
    http.cookies.clear()
    return visitor


async def _book(http: httpx.AsyncClient, clinic: Clinic) -> uuid.UUID:
    """Book the first free time, as the signed-in consumer; the appointment's id."""
    booked = await book_by_form(http, clinic, await free_slot(http, clinic))
    assert booked.status_code == 303, booked.text
    mine = (await http.get("/api/v1/appointments")).json()["data"]
    return uuid.UUID(mine[0]["id"])


def nothing_of(clinic: Clinic) -> list[str]:
    """What of a clinic must never show on another's site: names, usernames, ids."""
    people = [clinic.professional, clinic.pending_professional, clinic.consumer, clinic.admin]
    return [
        clinic.tenant.name,
        *(f"{p.username.title()} Example" for p in people),
        *(p.username for p in people),
        *(str(p.id) for p in people),
        str(clinic.tenant.id),
        str(clinic.professional_id),
        str(clinic.pending_professional_id),
        *(str(kind) for kind in clinic.kinds.values()),
    ]


@dataclass(frozen=True)
class Question:
    """One route asked by one visitor."""

    visitor: str
    method: str
    path: str
    who: Who | None  # whom the table says it is for on this site (None: nobody, 404)
    admitted: bool

    @property
    def api(self) -> bool:
        return self.path.startswith(API)


@dataclass
class Asked:
    """What the visitors were answered: how many requests, the failures, and the classes
    of the table some visitor they admit was served (a 2xx) by."""

    count: int = 0
    failures: list[str] = field(default_factory=list)
    served: set[Who] = field(default_factory=set)

    def fail(self, asking: Question, url: str, response: httpx.Response, why: str) -> None:
        status = response.status_code
        self.failures.append(f"{asking.visitor} {asking.method} {url} -> {status}: {why}")

    def judge(
        self, asking: Question, urls: dict[str, str], answers: dict[str, httpx.Response]
    ) -> None:
        self.count += len(answers)
        for variant, response in answers.items():
            why = self._wrong(asking, variant, response, answers)
            if why:
                self.fail(asking, urls[variant], response, why)

    def _wrong(
        self,
        asking: Question,
        variant: str,
        response: httpx.Response,
        answers: dict[str, httpx.Response],
    ) -> str | None:
        status = response.status_code
        if status >= 500:
            return "a server error"
        if not asking.admitted:
            webhook = asking.who is Who.WEBHOOK
            if refused(response, api=asking.api, webhook=webhook):
                return None
            return "not refused to a visitor it is not for"
        if variant == "own":
            if asking.who is not None and 200 <= status < 300:
                self.served.add(asking.who)
            # A read it is for is not turned away (a write may end at sign-in: a sign-out).
            signing_in = "/login" in asking.path  # its own steps send back to sign in
            turned_away = status in {401, 403} or (not signing_in and _to_sign_in(response))
            if asking.method == "GET" and turned_away:
                return "refused to a visitor it is for"
            return None
        own = answers.get("own")
        # 404, or the 4xx A's own id got too: answered before any id was looked up.
        if status == 404 or (own is not None and status == own.status_code >= 400):
            return None
        return f"{variant} id answered otherwise than 404"


def _to_sign_in(response: httpx.Response) -> bool:
    return response.status_code == 303 and "/login" in response.headers.get("location", "")


async def ask(
    http: httpx.AsyncClient, visitor: Visitor, method: str, url: str, api: bool
) -> httpx.Response:
    headers = visitor.headers(method, api)
    if method == "GET":
        response = await http.get(url, headers=headers)
    elif api:
        response = await http.request(method, url, headers=headers, json={})
    else:
        response = await http.request(
            method, url, headers=headers, data={"csrf_token": visitor.csrf}
        )
    http.cookies.clear()  # the next request sends the visitor's cookies, not what this set
    return response


def in_asking_order(routes: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Reads first, then writes, then what signs the visitor out."""
    return sorted(routes, key=lambda route: (route in SIGNS_OUT, route[0] != "GET"))


@dataclass
class People:
    """The visitors' cookies, and how each signs in (anonymous never does)."""

    sign_ins: dict[str, tuple[str, str, str]]  # name: host, username, path prefix
    signed: dict[str, dict[str, str]] = field(default_factory=lambda: {"anonymous": {}})

    async def sign_in(self, app: Any) -> None:
        for name in self.sign_ins:
            self.signed[name] = await self.sign_in_again(app, name)

    async def sign_in_again(self, app: Any, name: str) -> dict[str, str]:
        if name not in self.sign_ins:
            return self.signed[name]
        host, username, prefix = self.sign_ins[name]
        return await _sign_in(app, host, username, prefix)


@dataclass
class Site:
    host: str
    platform: bool
    form_page: str  # where a visitor is given a form token


async def ask_site(app: Any, site: Site, people: People, ids: Ids, hidden: list[str]) -> Asked:
    asked = Asked()
    routes = [r for r, rule in ROUTES.items() if not site.platform or rule.platform is not None]
    async with client_for(app, site.host) as http:
        for name in VISITORS:
            visitor = await _with_form_token(http, people.signed[name], site.form_page)
            for method, path in in_asking_order(routes):
                if (method, path) in SIGNS_OUT:  # each with a session of its own to end
                    cookies = await people.sign_in_again(app, name)
                    visitor = await _with_form_token(http, cookies, site.form_page)
                who, admits = admitted(ROUTES[method, path], site.platform)
                asking = Question(name, method, path, who, name in admits)
                urls = variants(path, ids)
                if not asking.admitted:  # refused whatever the ids: A's, where there are
                    urls = dict(list(urls.items())[:1])
                answers = {}
                for variant, url in urls.items():
                    answers[variant] = await ask(http, visitor, method, url, asking.api)
                    shown = [m for m in hidden if m in answers[variant].text and m not in url]
                    if shown and not site.platform:
                        asked.fail(asking, url, answers[variant], f"shows clinic B's {shown}")
                asked.judge(asking, urls, answers)
    return asked


# One backend: the production one where TEST_DATABASE_URL is set (both walls, the ORM's and
# row-level security), else SQLite. About 1,500 requests: twice would cost the suite 5 s, and
# the ORM wall both backends share is proved on each by the rest of P27.
@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
@P27
async def test_every_route_answers_only_those_it_is_for(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    booked = {}
    for each in (clinic, other_clinic):
        http = await signed_in(app, each, each.consumer.username)
        try:
            booked[each.tenant.slug] = await _book(http, each)
        finally:
            await http.aclose()
    ids = await _ids(rt, clinic, other_clinic, booked)
    operator = await make_operator(rt)
    desk = await make_staff(rt, clinic, "a.desk", Role.FRONT_DESK)
    people = People(
        {
            "consumer": (clinic.host, clinic.consumer.username, ""),
            "professional": (clinic.host, clinic.professional.username, ""),
            "front_desk": (clinic.host, desk.username, ""),
            "admin": (clinic.host, clinic.admin.username, ""),
            "other_admin": (other_clinic.host, other_clinic.admin.username, ""),
            "operator": (PLATFORM_HOST, operator.username, "/platform"),
        }
    )
    await people.sign_in(app)
    hidden = nothing_of(other_clinic)
    failures, count, served = [], 0, set()
    for site in (Site(clinic.host, False, "/login"), Site(PLATFORM_HOST, True, "/platform/login")):
        asked = await ask_site(app, site, people, ids, hidden)
        failures += asked.failures
        count += asked.count
        served |= asked.served
    assert count > 1000, count  # every route, every visitor: not a table that went empty
    assert not failures, "\n".join(failures)
    unserved = {
        who
        for rule in ROUTES.values()
        if not rule.development_only
        for who in (rule.clinic, rule.platform)
    }
    unserved -= served | {None, Who.WEBHOOK}  # no webhook is signed here
    assert not unserved, f"no visitor was ever served a route for {unserved}"
