"""The servers the scenarios measure: ``python -m bench.servers ours|bare --db PATH --port N``.

ours: the whole Praxis app (core.app.create_app), access log on, as ``praxis serve`` runs it.
bare: a one-route Starlette app rendering the same template with the same context for the
      demo tenant: the floor that templating and uvicorn alone cost.
store: a bare Starlette app that stores each POST's raw body as one row, in one INSERT and
      one commit, through the same engine set-up (core.db.create_engine: pool, WAL, pragmas,
      BEGIN IMMEDIATE for writes on SQLite; the pool and its pre-ping on PostgreSQL, where it
      connects as the tables' owner, without the app role): the floor of any durable write.

``--db`` is a SQLite file, or a database URL (PostgreSQL: bench.postgres).

Both run under uvicorn with uvloop and httptools, one process, uvicorn's access log off.
Settings come from the environment (bench.common.Workspace.env).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from sqlalchemy import Column, LargeBinary, MetaData, Table, Uuid, insert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from praxis.core.config import Settings, load_settings
from praxis.core.db import WRITE_OPTION, UTCDateTime, create_engine, utcnow
from praxis.core.tenancy import Database
from praxis.core.web.rendering import Templates
from praxis.core.web.routing import page_context
from praxis.tenants.directory import TenantDirectory, TenantInfo

DEMO_HOST = "demo.localhost"
TEMPLATE = "portal/home.html"


def ours(settings: Settings) -> Starlette:
    from praxis.core.app import create_app

    return create_app(settings, run_worker=False)  # background work would add noise


async def _demo_tenant(settings: Settings) -> TenantInfo:
    database = Database(create_engine(settings))
    try:
        directory = TenantDirectory(
            database, platform_domain=settings.platform_domain, ttl=60, capacity=1
        )
        site = await directory.resolve(DEMO_HOST)
    finally:
        await database.dispose()
    if not isinstance(site, TenantInfo):
        raise SystemExit(f"no tenant answers at {DEMO_HOST}")
    return site


def bare(settings: Settings) -> Starlette:
    tenant = asyncio.run(_demo_tenant(settings))
    templates = Templates(auto_reload=settings.is_development)

    async def home(request: Request) -> Response:
        context = page_context(tenant, request.url.path, lambda: "", user=None)
        return HTMLResponse(templates.render(tenant, TEMPLATE, context))

    return Starlette(routes=[Route("/", home)])


STORED = Table(
    "bench_stored_bodies",
    MetaData(),
    Column("id", Uuid, primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("body", LargeBinary, nullable=False),
)


def store(settings: Settings) -> Starlette:
    if settings.is_postgres:  # its table is its own: no app role, no row-level security
        settings = settings.model_copy(update={"database_role": ""})
    engine = create_engine(settings)

    async def stored(request: Request) -> Response:
        body = await request.body()
        async with engine.connect() as connection:
            writer = await connection.execution_options(**{WRITE_OPTION: True})
            async with writer.begin():
                row = {"id": uuid.uuid4(), "received_at": utcnow(), "body": body}
                await writer.execute(insert(STORED), row)
        return Response(status_code=201)

    async def ready(request: Request) -> Response:
        return Response("ready")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with engine.begin() as connection:
            await connection.run_sync(STORED.metadata.create_all)
        yield
        await engine.dispose()

    routes = [Route("/", ready), Route("/{path:path}", stored, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan)


KINDS = {"ours": ours, "bare": bare, "store": store}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("kind", choices=tuple(KINDS))
    parser.add_argument("--db", required=True, help="SQLite database file, or database URL")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    url = args.db if "://" in args.db else f"sqlite+aiosqlite:///{Path(args.db)}"
    os.environ["DATABASE_URL"] = url
    settings = load_settings()
    app = KINDS[args.kind](settings)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        proxy_headers=True,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
