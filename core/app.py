"""create_app(settings) -> Starlette: the whole web application for every tenant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles

from praxis.core import worker
from praxis.core.config import Settings
from praxis.core.logs import configure_logging
from praxis.core.runtime import Runtime, build_runtime
from praxis.core.sandbox import mount as sandbox
from praxis.core.tenancy.role import check_database_role
from praxis.core.web.api import consents as consents_api  # noqa: F401  (registers its operations)
from praxis.core.web.api import rights as _rights_api  # noqa: F401 (registers its operations)
from praxis.core.web.api.openapi import openapi_endpoint
from praxis.core.web.api.routes import api
from praxis.core.web.api.table import PREFIX, error
from praxis.core.web.middleware import EdgeMiddleware, TenantMiddleware
from praxis.core.web.pages import (
    account,
    admin,
    analytics,
    booking_policy,
    branding,
    campaigns,
    claim,
    closing,
    consents,
    consultation,
    desk,
    diary,
    directory,
    holds,
    invitation,
    ledger,
    listing,
    mailbox,
    password,
    photos,
    platform,
    portal,
    privacy,
    receipts,
    requests,
    restriction,
    retention,
    rights,
    security,
    setup,
    signin,
    signup,
    sso,
    staff,
    subscribe,
    system,
    visit,
    webhooks,
    workspace,
)
from praxis.core.web.pages import exit as clinic_exit
from praxis.core.web.rendering import Templates
from praxis.core.web.routing import build_routes, larger_bodies, not_found

log = structlog.get_logger("praxis.app")
STATIC = Path(__file__).parent / "web" / "static"


AREAS = (
    portal,
    visit,
    signup,
    signin,
    sso,
    password,
    account,
    consents,
    rights,
    closing,
    restriction,
    ledger,
    workspace,
    diary,
    consultation,
    admin,
    staff,
    desk,
    claim,
    analytics,
    branding,
    photos,
    campaigns,
    holds,
    receipts,
    booking_policy,
    requests,
    retention,
    security,
    setup,
    platform,
    directory,
    invitation,
    listing,
    clinic_exit,
    system,
    mailbox,
    privacy,
    subscribe,
)


def _routes(extra: Iterable[BaseRoute] = ()) -> list[BaseRoute]:
    """Pages first (the portal's home leads), then one mount for the whole API: a page
    request never tries the API's routes one by one."""
    api_routes = [Route("/openapi.json", openapi_endpoint(api), name="openapi"), *api.routes]
    return [
        *build_routes(*(area.pages for area in AREAS)),
        *webhooks.routes,
        *campaigns.routes,
        Route("/-/health", system.health, name="health"),
        Route("/-/brand.css", system.brand_css, name="brand_css"),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        Mount(PREFIX, app=Router(api_routes, redirect_slashes=False), name="api"),
        *extra,
    ]


async def _not_found(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return error(404, "not_found", "Not found.")
    return not_found(request)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return error(405, "method_not_allowed", "This method is not allowed here.")
    return HTMLResponse("<h1>Method not allowed</h1>", status_code=405)


async def _server_error(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("state", {}).get("request_id", "")
    log.error("unhandled_error", error=type(exc).__name__)
    message = f"Something went wrong on our side. Please try again. (Reference {request_id})"
    if request.url.path.startswith("/api/"):
        return error(500, "server_error", message)
    return HTMLResponse(f"<h1>Sorry</h1><p>{message}</p>", status_code=500)


async def _http_exception(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return await _not_found(request, exc)
    if status == 405:
        return await _method_not_allowed(request, exc)
    if request.url.path.startswith("/api/"):
        detail = exc.detail if isinstance(exc, HTTPException) else "Error."
        return error(status, "http_error", str(detail))
    return HTMLResponse(f"<h1>Error {status}</h1>", status_code=status)


def _development_routes(settings: Settings) -> list[BaseRoute]:
    """The sandbox of fake providers and the local mailbox: never outside development."""
    if not settings.is_development:
        return []
    return [*sandbox.Sandbox().routes()]


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    extra_plugins: Iterable[object] = (),
    run_worker: bool = False,
    access_log: bool = True,
) -> Starlette:
    """Build the app. ``run_worker`` runs background work in process (embedded default)."""
    configure_logging(settings.log_level, settings.log_format)
    rt = runtime or build_runtime(settings, extra_plugins=extra_plugins)
    development = _development_routes(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await check_database_role(rt.database, settings)  # production refuses a user RLS can't bind
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run_forever(rt, stop)) if run_worker else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            if runtime is None:
                await rt.close()
            else:
                await rt.visits.flush()  # the runtime is its owner's to close

    app = Starlette(
        routes=_routes(development),
        middleware=[
            Middleware(
                EdgeMiddleware,
                hsts=settings.secure_cookies,
                max_body_bytes=settings.max_body_bytes,
                larger_bodies=larger_bodies(*(area.pages for area in AREAS)),
                access_log=access_log,
            ),
            Middleware(
                TenantMiddleware,
                directory=rt.directory,
                any_host=(sandbox.PREFIX + "/",) if development else (),
            ),
        ],
        exception_handlers={
            HTTPException: _http_exception,
            500: _server_error,
        },
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # "/api/v1" is an unknown path, not a redirect
    app.state.runtime = rt
    app.state.templates = Templates(auto_reload=settings.is_development)
    return app
