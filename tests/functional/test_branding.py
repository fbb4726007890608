"""Clinic admins brand their portal in the browser: colours previewed and refused when white
text on them would be unreadable, a tagline, and a logo checked by its content, re-encoded and
served from the clinic's own address."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import unescape
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from praxis.core.branding import contrast
from praxis.core.branding.models import ClinicLogo
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.support import Clinic, csrf_in, image, login, post_form

READABLE = {"primary_colour": "#1d3557", "accent_colour": "#e63946", "tagline": "Care, nearby"}


@asynccontextmanager
async def admin_client(app: Any, clinic: Clinic) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, clinic.host) as http:
        await login(http, clinic.admin.username)
        yield http


async def upload(http: httpx.AsyncClient, data: bytes, name: str = "logo.png") -> httpx.Response:
    page = await http.get("/admin/branding")
    return await http.post(
        "/admin/branding/logo",
        data={"csrf_token": csrf_in(page.text)},
        files={"logo": (name, data, "image/png")},
    )


def test_the_contrast_rule_is_wcags() -> None:
    assert round(contrast.ratio("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast.ratio("#777777", "#ffffff"), 2) == 4.48  # just under AA
    assert contrast.problems("#0b6e4f", "#b3541e") == {}  # the defaults pass
    assert set(contrast.problems("#ffff00", "#fafafa")) == {"primary_colour", "accent_colour"}


async def test_an_admin_previews_then_saves_colours_and_every_page_shows_them(
    app: Any, clinic: Clinic
) -> None:
    async with admin_client(app, clinic) as admin:
        assert 'href="/admin/branding"' in (await admin.get("/admin")).text
        preview = await post_form(admin, "/admin/branding", {**READABLE, "action": "preview"})
        assert preview.status_code == 200 and "Not saved yet" in preview.text
        assert "preview.css?primary_colour=%231d3557" in unescape(preview.text)
        css = await admin.get(
            "/admin/branding/preview.css",
            params={"primary_colour": "#1d3557", "accent_colour": "#e63946"},
        )
        assert css.text == ".brand-preview{--brand:#1d3557;--accent:#e63946}\n"
        async with client_for(app, clinic.host) as visitor:  # nothing saved by a preview
            assert "Care, nearby" not in (await visitor.get("/")).text
        saved = await post_form(admin, "/admin/branding", {**READABLE, "action": "save"})
        assert saved.status_code == 303
    async with client_for(app, clinic.host) as visitor:
        home = await visitor.get("/")
        assert "Care, nearby" in home.text
        version = home.text.split('href="/-/brand.css')[1].split('"')[0]
        brand = await visitor.get("/-/brand.css" + unescape(version))
        assert "--brand:#1d3557" in brand.text and "--accent:#e63946" in brand.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"primary_colour": "#ffee00"}, "primary_colour", "White text on this colour is hard"),
        ({"accent_colour": "#f4f4f4"}, "accent_colour", "barely shows on white"),
        ({"primary_colour": "green"}, "primary_colour", "must be a colour like #0b6e4f"),
        ({"tagline": "x" * 201}, "tagline", "at most 200 characters"),
    ],
)
async def test_unreadable_or_wrong_branding_is_refused_and_nothing_changes(
    app: Any, clinic: Clinic, changes: dict[str, str], field: str, message: str
) -> None:
    async with admin_client(app, clinic) as admin:
        for action in ("preview", "save"):
            answer = await post_form(
                admin, "/admin/branding", {**READABLE, **changes, "action": action}
            )
            assert answer.status_code == 422, action
            assert message in unescape(answer.text) and f'id="f-{field}-error"' in answer.text
    async with client_for(app, clinic.host) as visitor:
        assert "Care, nearby" not in (await visitor.get("/")).text


async def test_a_logo_is_checked_by_content_re_encoded_and_served_from_the_clinic(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with admin_client(app, clinic) as admin:
        saved = await upload(admin, image("JPEG"), "photo.jpg")
        assert saved.status_code == 303, saved.text
    async with rt.database.reading(clinic.tenant.id) as db:
        stored = await db.scalar(select(ClinicLogo))
    assert stored is not None
    with Image.open(io.BytesIO(stored.png)) as kept:
        assert kept.format == "PNG" and max(kept.size) <= 256
    async with client_for(app, clinic.host) as visitor:
        home = await visitor.get("/")
        address = home.text.split('src="/-/logo?v=')[1].split('"')[0]
        served = await visitor.get(f"/-/logo?v={address}")
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
        assert served.content == stored.png
    async with client_for(app, other_clinic.host) as elsewhere:  # its own clinic only
        assert (await elsewhere.get("/-/logo")).status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>x()</script></svg>", "PNG, JPEG"),
        (b"GIF89a" + b"\0" * 20, "PNG, JPEG or WebP"),
        (image("GIF"), "PNG, JPEG or WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"not really", "PNG, JPEG or WebP"),
        (image("PNG", (2100, 2100)), "too large"),
        (b"\x89PNG" + b"\0" * (600 * 1024), "at most 512 KB"),
    ],
)
async def test_what_is_not_a_small_image_is_refused_whatever_its_name(
    app: Any, rt: Runtime, clinic: Clinic, data: bytes, message: str
) -> None:
    async with admin_client(app, clinic) as admin:
        refused = await upload(admin, data, "logo.png")
    assert refused.status_code == 422 and message in unescape(refused.text)
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await db.scalar(select(ClinicLogo)) is None


async def test_a_logo_can_be_removed(app: Any, rt: Runtime, clinic: Clinic) -> None:
    async with admin_client(app, clinic) as admin:
        assert (await upload(admin, image())).status_code == 303
        page = await admin.get("/admin/branding")
        removed = await admin.post(
            "/admin/branding/logo/remove", data={"csrf_token": csrf_in(page.text)}
        )
        assert removed.status_code == 303
    async with client_for(app, clinic.host) as visitor:
        assert "/-/logo" not in (await visitor.get("/")).text
        assert (await visitor.get("/-/logo")).status_code == 404
