"""A Professional's photo: uploaded (or removed) by them from their workspace or by a clinic
admin for them, checked by its content, re-encoded, and shown beside their name on the portal
and in the public directory; served only while they are approved, from their own clinic (or a
listed clinic, in the directory), and deleted when they leave."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import unescape
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import delete, select

from praxis.core.accounts.models import Professional
from praxis.core.accounts.photos import ProfessionalPhoto
from praxis.core.images import PHOTO_MAX_BYTES
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.support import Clinic, camera_photo, csrf_in, image, login, post_form

PHOTO_PAGE = "/workspace/photo"


@asynccontextmanager
async def signed_in(app: Any, clinic: Clinic, username: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, clinic.host) as http:
        await login(http, username)
        yield http


async def upload(
    http: httpx.AsyncClient, data: bytes, *, page: str = PHOTO_PAGE, name: str = "me.png"
) -> httpx.Response:
    shown = await http.get(page)
    return await http.post(
        page, data={"csrf_token": csrf_in(shown.text)}, files={"photo": (name, data, "image/png")}
    )


async def stored(rt: Runtime, clinic: Clinic) -> list[ProfessionalPhoto]:
    async with rt.database.reading(clinic.tenant.id) as db:
        return list((await db.scalars(select(ProfessionalPhoto))).all())


def address_in(html: str, professional_id: Any) -> str:
    """The photo's address as a page links it: the versioned one."""
    marker = f'src="/-/photos/{professional_id}?v='
    assert marker in html, "no photo shown"
    return f"/-/photos/{professional_id}?v=" + html.split(marker)[1].split('"')[0]


@pytest.mark.parametrize(("kind", "name"), [("PNG", "me.png"), ("JPEG", "me.jpg")])
async def test_a_professional_uploads_a_photo_shown_beside_their_name(
    app: Any, rt: Runtime, clinic: Clinic, kind: str, name: str
) -> None:
    async with signed_in(app, clinic, clinic.professional.username) as pro:
        assert 'href="/workspace/photo"' in (await pro.get("/workspace")).text
        saved = await upload(pro, image(kind, (600, 400)), name=name)
        assert saved.status_code == 303, saved.text
        page = await pro.get(PHOTO_PAGE)
        assert "Photo saved." in page.text and 'alt="Your current photo"' in page.text
    (photo,) = await stored(rt, clinic)
    assert photo.professional_id == clinic.professional_id and photo.media_type == "image/jpeg"
    with Image.open(io.BytesIO(photo.image)) as kept:  # re-encoded, cropped square
        assert kept.format == "JPEG" and kept.size == (320, 320)
    async with client_for(app, clinic.host) as visitor:
        listing = (await visitor.get("/professionals")).text
        address = address_in(listing, clinic.professional_id)
        assert f'<img class="photo" src="{address}" alt=""' in unescape(listing)  # name beside
        profile = (await visitor.get(f"/professionals/{clinic.professional_id}")).text
        assert address in unescape(profile) and "photo-large" in profile
        served = await visitor.get(address)
        assert served.status_code == 200 and served.content == photo.image
        assert served.headers["content-type"] == "image/jpeg"
        assert "immutable" in served.headers["cache-control"]
        again = await visitor.get(address, headers={"If-None-Match": served.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        stale = await visitor.get(f"/-/photos/{clinic.professional_id}?v=000000000000")
        assert stale.status_code == 200 and "no-cache" in stale.headers["cache-control"]
        api = (await visitor.get(f"/api/v1/professionals/{clinic.professional_id}")).json()
        assert api["photo_url"] == address
        listed = (await visitor.get("/api/v1/professionals")).json()["data"]
        assert [p["photo_url"] for p in listed] == [address]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>x()</script></svg>", "PNG, JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"not really a picture", "PNG, JPEG or WebP"),
        (image("GIF"), "PNG, JPEG or WebP"),
        (image("PNG", (2100, 2100)), "too large"),
        (b"\xff\xd8" + b"\0" * PHOTO_MAX_BYTES, "at most 8 MB"),
        (b"", "Choose an image file"),
    ],
)
async def test_what_is_not_a_small_image_is_refused_on_the_field_and_nothing_is_kept(
    app: Any, rt: Runtime, clinic: Clinic, data: bytes, message: str
) -> None:
    async with signed_in(app, clinic, clinic.professional.username) as pro:
        refused = await upload(pro, data, name="me.png")
    assert refused.status_code == 422
    assert message in unescape(refused.text) and 'id="f-photo-error"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert await stored(rt, clinic) == []


async def test_a_photo_straight_from_a_phone_is_taken_where_other_pages_refuse_such_a_body(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    """The photo pages take a camera's photo of several MB; every other page keeps the
    1 MB limit (MAX_BODY_BYTES), the logo's upload too."""
    taken = camera_photo()
    assert len(taken) > 1_000_000
    async with signed_in(app, clinic, clinic.professional.username) as pro:
        assert (await upload(pro, taken, name="IMG_0001.jpg")).status_code == 303
    [kept] = await stored(rt, clinic)
    assert Image.open(io.BytesIO(kept.image)).size == (320, 320)
    async with signed_in(app, clinic, clinic.admin.username) as admin:
        page = f"/admin/professionals/{clinic.professional_id}/photo"
        assert (await upload(admin, taken, page=page)).status_code == 303
        shown = await admin.get("/admin/branding")
        logo = await admin.post(
            "/admin/branding/logo",
            data={"csrf_token": csrf_in(shown.text)},
            files={"logo": ("IMG_0001.jpg", taken, "image/jpeg")},
        )
        assert logo.status_code == 413 and "takes at most 1 MB" in logo.text
        past = b"\xff\xd8" + b"\0" * (PHOTO_MAX_BYTES + 128 * 1024)
        too_big = await upload(admin, past, page=page)
        assert too_big.status_code == 413  # past the photo's own limit, before any reading
        assert "takes at most 8 MB" in too_big.text and "What you sent is too large" in too_big.text


async def test_a_removed_photo_leaves_the_initials_and_is_no_longer_served(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with signed_in(app, clinic, clinic.professional.username) as pro:
        assert (await upload(pro, image())).status_code == 303
        async with client_for(app, clinic.host) as visitor:
            address = address_in((await visitor.get("/professionals")).text, clinic.professional_id)
        removed = await post_form(pro, f"{PHOTO_PAGE}/remove", {}, page=PHOTO_PAGE)
        assert removed.status_code == 303
        assert "No photo yet" in (await pro.get(PHOTO_PAGE)).text
    assert await stored(rt, clinic) == []
    async with client_for(app, clinic.host) as visitor:
        listing = (await visitor.get("/professionals")).text
        assert "/-/photos/" not in listing and 'class="photo photo-initials"' in listing
        assert (await visitor.get(address)).status_code == 404


async def test_an_admin_sets_the_photo_of_a_professional_not_yet_approved(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    page = f"/admin/professionals/{clinic.pending_professional_id}/photo"
    async with signed_in(app, clinic, clinic.admin.username) as admin:
        assert f'href="{page}"' in (await admin.get("/admin/professionals")).text
        assert (await upload(admin, image("JPEG"), page=page)).status_code == 303
        shown = (await admin.get(page)).text
        assert "Current photo of" in shown and 'src="data:image/jpeg;base64,' in shown
    (photo,) = await stored(rt, clinic)
    assert photo.professional_id == clinic.pending_professional_id
    address = f"/-/photos/{clinic.pending_professional_id}"
    async with client_for(app, clinic.host) as visitor:  # not approved: not shown to anyone
        assert (await visitor.get(address)).status_code == 404
    async with signed_in(app, clinic, clinic.admin.username) as admin:
        approve = f"/admin/professionals/{clinic.pending_professional_id}/approve"
        assert (await post_form(admin, approve, {}, page="/admin/professionals")).is_redirect
        removed = await post_form(admin, f"{page}/remove", {}, page=page)
        assert removed.status_code == 303
    assert await stored(rt, clinic) == []


async def test_another_clinic_never_sees_or_changes_the_photo(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with signed_in(app, clinic, clinic.professional.username) as pro:
        assert (await upload(pro, image())).status_code == 303
    async with client_for(app, other_clinic.host) as elsewhere:
        assert (await elsewhere.get(f"/-/photos/{clinic.professional_id}")).status_code == 404
    async with signed_in(app, other_clinic, other_clinic.admin.username) as admin:
        theirs = f"/admin/professionals/{clinic.professional_id}/photo"
        assert (await admin.get(theirs)).status_code == 404
        token = csrf_in((await admin.get("/admin/professionals")).text)
        sent = await admin.post(
            theirs, data={"csrf_token": token}, files={"photo": ("x.png", image(), "image/png")}
        )
        assert sent.status_code == 404
        gone = await admin.post(f"{theirs}/remove", data={"csrf_token": token})
        assert gone.status_code == 404
    assert len(await stored(rt, clinic)) == 1 and await stored(rt, other_clinic) == []


async def test_the_public_directory_shows_the_photo_of_a_listed_clinic_only(
    app: Any, clinic: Clinic, other_clinic: Clinic
) -> None:
    for each in (clinic, other_clinic):
        async with signed_in(app, each, each.professional.username) as pro:
            assert (await upload(pro, image("JPEG"))).status_code == 303
    async with signed_in(app, other_clinic, other_clinic.admin.username) as admin:
        listed = await post_form(admin, "/admin/directory", {"listed": "yes", "town": "Leeds"})
        assert listed.status_code == 303
    slug, pro_id = other_clinic.tenant.slug, other_clinic.professional_id
    async with client_for(app, "localhost") as visitor:
        page = unescape((await visitor.get("/")).text)
        marker = f'src="/-/photos/{slug}/{pro_id}?v='
        assert marker in page and "Beta.Pro Example" in page
        address = f"/-/photos/{slug}/{pro_id}?v=" + page.split(marker)[1].split('"')[0]
        assert f'{marker}{address.split("?v=")[1]}" alt=""' in page  # the name is beside it
        served = await visitor.get(address)
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        assert "immutable" in served.headers["cache-control"]
        # A clinic that did not opt in, another clinic's id, a Professional not approved: 404.
        unlisted = f"/-/photos/{clinic.tenant.slug}/{clinic.professional_id}"
        assert (await visitor.get(unlisted)).status_code == 404
        assert (await visitor.get(f"/-/photos/{slug}/{clinic.professional_id}")).status_code == 404
        pending = f"/-/photos/{slug}/{other_clinic.pending_professional_id}"
        assert (await visitor.get(pending)).status_code == 404
    async with client_for(app, other_clinic.host) as portal:  # not a clinic's route
        assert (await portal.get(f"/-/photos/{slug}/{pro_id}")).status_code == 404


async def test_the_photo_goes_when_the_professional_leaves_the_staff_or_the_profile_goes(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with signed_in(app, clinic, clinic.professional.username) as pro:
        assert (await upload(pro, image())).status_code == 303
    async with signed_in(app, clinic, clinic.admin.username) as admin:
        staff_page = f"/admin/staff/{clinic.professional.id}"
        removed = await post_form(admin, f"{staff_page}/remove", {}, page=staff_page)
        assert removed.status_code == 303
    assert await stored(rt, clinic) == []
    # The table follows its Professional: deleting the profile deletes the photo with it.
    page = f"/admin/professionals/{clinic.pending_professional_id}/photo"
    async with signed_in(app, clinic, clinic.admin.username) as admin:
        assert (await upload(admin, image(), page=page)).status_code == 303
    async with rt.database.writing(clinic.tenant.id) as db:
        await db.execute(
            delete(Professional).where(Professional.id == clinic.pending_professional_id)
        )
        await db.commit()
    assert await stored(rt, clinic) == []
