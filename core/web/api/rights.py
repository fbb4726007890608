"""API operations for a consumer's rights: correcting their details (PATCH /me, P32) and
downloading everything held about them (/me/export, P31, P34 portability). Registered on the
same table as the other operations when the app imports this module."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from starlette.responses import Response, StreamingResponse

from praxis.core.privacy import correction, export
from praxis.core.privacy.models import DataExport
from praxis.core.web.api.routes import api
from praxis.core.web.api.schemas import MeOut
from praxis.core.web.context import Access, Ctx

CONSUMER = Access.CONSUMER


class ExportOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    status: str  # queued, ready or failed
    requested_at: datetime
    ready_at: datetime | None
    expires_at: datetime
    size_bytes: int
    download_url: str | None  # while ready and unexpired

    @classmethod
    def of(cls, found: DataExport) -> ExportOut:
        ready = found.status == "ready"
        return cls(
            id=found.id,
            status=found.status,
            requested_at=found.requested_at,
            ready_at=found.ready_at,
            expires_at=found.expires_at,
            size_bytes=found.size_bytes,
            download_url=f"/api/v1/me/export/{found.id}/download" if ready else None,
        )


class ExportList(BaseModel):
    model_config = ConfigDict(frozen=True)

    data: list[ExportOut]


@api.operation(
    "PATCH",
    "/me",
    summary="Correct your details (the password again to change email or phone)",
    body=correction.CorrectionPatch,
    response=MeOut,
    access=CONSUMER,
)
async def correct_me(ctx: Ctx, body: correction.CorrectionPatch) -> tuple[int, BaseModel]:
    await correction.correct(
        ctx.db,
        ctx.tenant,
        ctx.me,
        body.over(ctx.me),
        passwords=ctx.rt.passwords,
        keyring=ctx.rt.keyring,
        region=ctx.region,
    )
    await ctx.db.commit()
    return 200, MeOut.of(ctx.me, ctx.csrf())


@api.operation(
    "POST",
    "/me/export",
    summary="Ask for a copy of everything held about you (a ZIP: JSON, FHIR R4, HTML)",
    response=ExportOut,
    access=CONSUMER,
    status=202,
)
async def ask_export(ctx: Ctx) -> tuple[int, BaseModel]:
    asked = await export.request(ctx.db, ctx.tenant, ctx.me, now=ctx.now)
    await ctx.db.commit()  # the worker builds it; GET /me/export shows when it is ready
    return 202, ExportOut.of(asked)


@api.operation(
    "GET",
    "/me/export",
    summary="Your downloads and their state",
    response=ExportList,
    access=CONSUMER,
)
async def my_exports(ctx: Ctx) -> tuple[int, BaseModel]:
    found = await export.mine(ctx.db, ctx.me.id, now=ctx.now)
    return 200, ExportList(data=[ExportOut.of(e) for e in found])


@api.operation(
    "GET",
    "/me/export/{export_id:uuid}/download",
    summary="Download a ready copy of your data (recorded in the ledger)",
    response=ExportOut,
    access=CONSUMER,
    produces="application/zip",
)
async def download_export(ctx: Ctx) -> Response:
    export_id: uuid.UUID = ctx.request.path_params["export_id"]
    tenant, rt = ctx.tenant, ctx.rt
    async with rt.database.writing(tenant.id) as db:
        found = await export.ready_for(db, ctx.me.id, export_id, now=ctx.now)
        await export.record_download(db, found, actor_id=ctx.me.id, now=ctx.now)
        await db.commit()
    headers = {
        "Content-Disposition": f'attachment; filename="my-data-{tenant.slug}.zip"',
        "Cache-Control": "no-store",
    }
    body = export.chunks(rt.database, rt.data_keys, tenant.id, export_id)
    return StreamingResponse(body, media_type="application/zip", headers=headers)
