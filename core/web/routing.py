"""Declaring pages: ``@pages.page(...)`` registers a route and wraps it with the request context.

Service errors and access refusals become pages a person can act on: a sign-in
redirect, a 403 that says what the page is for, a 404 that reveals nothing.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import structlog
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route, compile_path

from praxis.core.errors import InvalidInput, ServiceError
from praxis.core.web.banner import find_privacy_banner
from praxis.core.web.context import (
    Access,
    CsrfRejected,
    Ctx,
    EnrolmentRequired,
    Forbidden,
    SecondFactorPending,
    SignInRequired,
    SiteKind,
    WrongSite,
    authorise,
    refuse_control_characters,
    request_context,
)
from praxis.core.web.notices import read_notice, set_notice
from praxis.core.web.rendering import Clock
from praxis.core.web.visits import UNDECIDED, count_view, find_cookie_choice
from praxis.tenants.directory import TenantInfo

log = structlog.get_logger("praxis.web")
COOKIES = "/privacy/cookies"  # the page where the analytics choice is always offered
Page = Callable[[Ctx], Awaitable[Response]]

# Pages both kinds of site serve: their path prefix, and who counts as signed in there.
SITES: tuple[tuple[SiteKind, str, Access], ...] = (
    ("tenant", "", Access.SIGNED_IN),
    ("platform", "/platform", Access.OPERATOR),
)

ACCESS_WORDS = {
    Access.CONSUMER: "for consumers booking consultations",
    Access.PROFESSIONAL: "for Professionals",
    Access.CLINIC_ADMIN: "for clinic administrators",
    Access.STAFF: "for clinic staff",
    Access.FRONT_DESK: "for the clinic's front desk and administrators",
    Access.OPERATOR: "for platform operators",
}


def page_context(
    tenant: TenantInfo | None, path: str, csrf: Callable[[], str], **extra: Any
) -> dict[str, Any]:
    """What every template may use; pages add their own on top."""
    context: dict[str, Any] = {
        "tenant": tenant,
        "branding": tenant.branding if tenant else None,
        "user": None,
        "operator": None,
        "csrf": csrf,
        "clock": Clock(tenant),
        "notice": None,
        "privacy_banner": None,
        "cookie_choice": None,  # "undecided" shows the choice of analytics cookies
        "return_to": "",  # where that choice comes back to: this page
        "platform_site": "",
        "path": path,
        "errors": {},
        "values": {},
        "summary": None,
    }
    context.update(extra)
    return context


def render(ctx: Ctx, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render with what every page needs: tenant, branding, who is signed in, CSRF, notice."""
    tenant = ctx.tenant_or_none
    full = page_context(
        tenant,
        ctx.request.scope["path"],  # what request.url.path gives, without building a URL
        ctx.csrf,
        user=ctx.user,
        operator=ctx.operator,
        notice=read_notice(ctx),
        privacy_banner=ctx.privacy_banner,
        cookie_choice=ctx.cookie_choice,
        return_to=_here(ctx) if _offers_choice(ctx) else "",
        platform_site=ctx.settings.site_url(),
    )
    full.update(context)
    html = ctx.request.app.state.templates.render(tenant, template, full)
    return HTMLResponse(html, status_code=status)


def _offers_choice(ctx: Ctx) -> bool:
    """Does this page show the analytics choice (the region, or the cookies page's own)?"""
    choice = ctx.cookie_choice
    return choice == UNDECIDED or (choice is not None and ctx.request.scope["path"] == COOKIES)


def _here(ctx: Ctx) -> str:
    """This page's path and query, to come back to after a form on it."""
    query = ctx.request.scope.get("query_string", b"").decode("latin-1")
    path: str = ctx.request.scope["path"]
    return f"{path}?{query}" if query else path


def redirect(ctx: Ctx, url: str, *, notice: str | None = None) -> Response:
    response = RedirectResponse(url, status_code=303)
    if notice:
        set_notice(ctx, response, notice)
    return response


def safe_next(value: str | None, default: str) -> str:
    """Only same-site paths: never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def form_error(ctx: Ctx, template: str, exc: InvalidInput, **context: Any) -> HTMLResponse:
    """Re-show a form with each bad field's message; what was typed stays (passwords don't)."""
    values = {k: v for k, v in ctx.form.items() if "password" not in k and k != "csrf_token"}
    return render(
        ctx,
        template,
        status=422,
        errors=exc.fields,
        summary=exc.message,
        values=values,
        **context,
    )


@dataclass(frozen=True)
class PageEntry:
    path: str
    methods: tuple[str, ...]
    site: SiteKind
    name: str
    endpoint: Callable[[Request], Awaitable[Response]]
    body_bytes: int = 0  # a larger body than MAX_BODY_BYTES this page takes (its upload)


class Pages:
    """A table of pages for one area of the site."""

    def __init__(self) -> None:
        self.entries: list[PageEntry] = []

    def page(
        self,
        path: str,
        *,
        methods: Sequence[str] = ("GET",),
        site: SiteKind = "tenant",
        access: Access = Access.PUBLIC,
        second_factor_step: bool = False,
        enrolment_step: bool = False,
        name: str | None = None,
        one_transaction: bool = False,
        uploads: int = 0,
        body_bytes: int = 0,
    ) -> Callable[[Page], Page]:
        def register(handler: Page) -> Page:
            async def endpoint(request: Request) -> Response:
                return await _run_page(
                    request,
                    handler,
                    site=site,
                    access=access,
                    second_factor_step=second_factor_step,
                    enrolment_step=enrolment_step,
                    one_transaction=one_transaction,
                    uploads=uploads,
                )

            entry = PageEntry(
                path, tuple(methods), site, name or handler.__name__, endpoint, body_bytes
            )
            self.entries.append(entry)
            return handler

        return register


def build_routes(*tables: Pages) -> list[Route]:
    """One route per path and methods; where both sites use a path, the host picks the page."""
    grouped: dict[tuple[str, tuple[str, ...]], dict[SiteKind, PageEntry]] = {}
    for table in tables:
        for entry in table.entries:
            grouped.setdefault((entry.path, entry.methods), {})[entry.site] = entry
    routes = []
    for (path, methods), by_site in grouped.items():
        if len(by_site) == 1:
            (only,) = by_site.values()
            routes.append(Route(path, only.endpoint, methods=list(methods), name=only.name))
        else:
            name = "_or_".join(sorted(e.name for e in by_site.values()))
            routes.append(Route(path, _by_site(by_site), methods=list(methods), name=name))
    return routes


def larger_bodies(*tables: Pages) -> list[tuple[re.Pattern[str], int]]:
    """The paths whose pages take a larger body than the rest (a photo from a phone), each
    with its own limit, for the edge's body-size check."""
    return [
        (compile_path(entry.path)[0], entry.body_bytes)
        for table in tables
        for entry in table.entries
        if entry.body_bytes
    ]


def _by_site(by_site: dict[SiteKind, PageEntry]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        site = request.scope["state"]["site"]
        kind: SiteKind = "tenant" if isinstance(site, TenantInfo) else "platform"
        entry = by_site.get(kind)
        return await entry.endpoint(request) if entry else not_found(request)

    return endpoint


async def _run_page(
    request: Request,
    handler: Page,
    *,
    site: SiteKind,
    access: Access,
    second_factor_step: bool,
    enrolment_step: bool,
    one_transaction: bool,
    uploads: int = 0,
) -> Response:
    try:
        async with request_context(request, site, one_transaction=one_transaction) as ctx:
            try:
                if request.method == "POST":
                    ctx.form_items, ctx.files = await _read_form(request, uploads)
                    ctx.form = dict(ctx.form_items)
                refuse_control_characters(ctx)
                authorise(
                    ctx,
                    access,
                    csrf_token=ctx.form.get("csrf_token"),
                    second_factor_step=second_factor_step,
                    enrolment_step=enrolment_step,
                )
                await find_privacy_banner(ctx)
                await find_cookie_choice(ctx)
                response = await handler(ctx)
            except (SignInRequired, SecondFactorPending, EnrolmentRequired) as exc:
                response = _redirect_for(ctx, exc, site)
            except Forbidden:
                words = ACCESS_WORDS.get(access, "for someone else")
                response = error_page(
                    ctx, 403, "This page is not for you", f"This page is {words}."
                )
            except CsrfRejected:
                response = error_page(
                    ctx,
                    400,
                    "This form has expired",
                    "Go back, reload the page and try again. Cookies must be enabled.",
                )
            except ServiceError as exc:
                response = error_page(
                    ctx, exc.status, _TITLES.get(exc.status, "Sorry"), exc.message
                )
            count_view(ctx, response)
            return ctx.finish(response)
    except WrongSite:
        return not_found(request)


_TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Page not found",
    409: "That changed in the meantime",
    422: "Please check what you entered",
    429: "Too many attempts",
}


def not_found(request: Request) -> HTMLResponse:
    """The 404 page, rendered without a request context (no session is looked up)."""
    site = request.scope.get("state", {}).get("site")
    tenant = site if isinstance(site, TenantInfo) else None
    context = page_context(
        tenant,
        request.url.path,
        lambda: "",
        title="Page not found",
        message="We could not find that page. Check the address, or start again from home.",
    )
    html = request.app.state.templates.render(tenant, "error.html", context)
    return HTMLResponse(html, status_code=404)


def error_page(ctx: Ctx, status: int, title: str, message: str) -> HTMLResponse:
    return render(ctx, "error.html", status=status, title=title, message=message)


def _redirect_for(ctx: Ctx, exc: Exception, site: SiteKind) -> Response:
    prefix = "/platform" if site == "platform" else ""
    if isinstance(exc, SecondFactorPending):
        return redirect(ctx, f"{prefix}/login/code")
    if isinstance(exc, EnrolmentRequired):
        return redirect(
            ctx,
            f"{prefix}/account/security",
            notice="Set up two-step sign-in to continue: staff accounts need it.",
        )
    target = quote(ctx.request.url.path, safe="/")
    return redirect(ctx, f"{prefix}/login?next={target}")


async def _read_form(
    request: Request, uploads: int = 0
) -> tuple[list[tuple[str, str]], dict[str, bytes]]:
    """The form's fields, and its files where the page takes ``uploads`` of them (the body
    is already bounded by MAX_BODY_BYTES)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return [], {}
    form = await request.form(max_files=uploads, max_fields=100)
    fields = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    try:
        files = {
            key: await value.read()
            for key, value in form.multi_items()
            if isinstance(value, UploadFile) and value.filename
        }
    finally:
        await form.close()  # the uploads' temporary files
    return fields, files
