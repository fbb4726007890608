"""A Professional's photo: uploaded and removed by the Professional from their workspace, or
by a clinic admin for them; served from the clinic's own address while they are approved."""

from __future__ import annotations

import base64
import uuid

from starlette.responses import Response

from praxis.core.accounts import photos
from praxis.core.accounts.models import Professional
from praxis.core.accounts.professionals import professional_by_id
from praxis.core.errors import InvalidInput
from praxis.core.images import PHOTO_MAX_BYTES
from praxis.core.web.context import Access, Ctx
from praxis.core.web.pages.workspace import own_profile
from praxis.core.web.pictures import picture_response
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
PRO = Access.PROFESSIONAL
ADMIN = Access.CLINIC_ADMIN
LABELS = {"photo": "Photo"}
UPLOAD_BYTES = PHOTO_MAX_BYTES + 64 * 1024  # a camera's photo and the form around it


def _here(profile: Professional, *, own: bool) -> str:
    return "/workspace/photo" if own else f"/admin/professionals/{profile.id}/photo"


async def _page(
    ctx: Ctx, profile: Professional, *, own: bool, error: InvalidInput | None = None
) -> Response:
    stored = await photos.photo_of(ctx.db, profile.id)
    # Shown inline: the public address serves only an approved Professional's photo.
    current = (
        f"data:{stored.media_type};base64,{base64.b64encode(stored.image).decode()}"
        if stored
        else None
    )
    return render(
        ctx,
        "workspace/photo.html",
        status=422 if error else 200,
        profile=profile,
        own=own,
        here=_here(profile, own=own),
        current=current,
        errors=error.fields if error else {},
        summary=error.message if error else None,
        field_labels=LABELS,
        title="Your photo" if own else f"Photo of {profile.display_name}",
    )


async def _upload(ctx: Ctx, profile: Professional, *, own: bool) -> Response:
    try:
        await photos.save_photo(ctx.db, profile, ctx.files.get("photo", b""))
    except InvalidInput as exc:
        return await _page(ctx, profile, own=own, error=exc)
    await ctx.db.commit()
    return redirect(ctx, _here(profile, own=own), notice="Photo saved.")


async def _remove(ctx: Ctx, profile: Professional, *, own: bool) -> Response:
    await photos.remove_photo(ctx.db, profile.id)
    await ctx.db.commit()
    return redirect(ctx, _here(profile, own=own), notice="Photo removed.")


def _professional_id(ctx: Ctx) -> uuid.UUID:
    value: uuid.UUID = ctx.request.path_params["professional_id"]
    return value


@pages.page("/workspace/photo", access=PRO)
async def own_photo(ctx: Ctx) -> Response:
    return await _page(ctx, await own_profile(ctx), own=True)


@pages.page(
    "/workspace/photo",
    methods=["POST"],
    access=PRO,
    uploads=1,
    body_bytes=UPLOAD_BYTES,
    name="upload_own_photo",
)
async def upload_own_photo(ctx: Ctx) -> Response:
    return await _upload(ctx, await own_profile(ctx), own=True)


@pages.page("/workspace/photo/remove", methods=["POST"], access=PRO)
async def remove_own_photo(ctx: Ctx) -> Response:
    return await _remove(ctx, await own_profile(ctx), own=True)


@pages.page("/admin/professionals/{professional_id:uuid}/photo", access=ADMIN)
async def photo_for(ctx: Ctx) -> Response:
    return await _page(ctx, await professional_by_id(ctx.db, _professional_id(ctx)), own=False)


@pages.page(
    "/admin/professionals/{professional_id:uuid}/photo",
    methods=["POST"],
    access=ADMIN,
    uploads=1,
    body_bytes=UPLOAD_BYTES,
    name="upload_photo_for",
)
async def upload_photo_for(ctx: Ctx) -> Response:
    profile = await professional_by_id(ctx.db, _professional_id(ctx))
    return await _upload(ctx, profile, own=False)


@pages.page(
    "/admin/professionals/{professional_id:uuid}/photo/remove", methods=["POST"], access=ADMIN
)
async def remove_photo_for(ctx: Ctx) -> Response:
    profile = await professional_by_id(ctx.db, _professional_id(ctx))
    return await _remove(ctx, profile, own=False)


@pages.page("/-/photos/{professional_id:uuid}", access=Access.PUBLIC)
async def photo(ctx: Ctx) -> Response:
    stored = await photos.listed_photo(ctx.db, _professional_id(ctx))
    if stored is None:
        return render(ctx, "error.html", status=404, title="Page not found", message="No photo.")
    return picture_response(ctx.request, stored.image, stored.media_type, stored.digest)
