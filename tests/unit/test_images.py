"""Uploaded pictures: decoded to prove they are images, re-encoded so nothing else survives."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from praxis.core import images
from tests.support import camera_photo, image


def _open(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def test_a_logo_keeps_its_shape_and_transparency_within_its_side() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (600, 300), (10, 20, 30, 0)).save(out, format="PNG")
    logo = images.logo(out.getvalue(), side=256)
    kept = _open(logo.data)
    assert (kept.format, kept.size, kept.mode) == ("PNG", (256, 128), "RGBA")
    assert logo.media_type == "image/png" and logo.version == logo.digest[:12]


def test_a_portrait_is_a_square_jpeg_stood_upright_and_stripped_of_its_metadata() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: show it rotated a quarter turn
    exif[0x010F] = "Camera maker"
    taken = Image.new("RGB", (400, 400), (220, 20, 20))  # red on the left, blue on the right
    taken.paste((20, 20, 220), (200, 0, 400, 400))
    out = io.BytesIO()
    taken.save(out, format="JPEG", exif=exif)
    portrait = images.portrait(out.getvalue(), side=320)
    kept = _open(portrait.data)
    assert (kept.format, kept.size, portrait.media_type) == ("JPEG", (320, 320), "image/jpeg")
    top, bottom = kept.getpixel((160, 40)), kept.getpixel((160, 280))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]  # type: ignore[index]
    assert not kept.getexif()  # no maker, no location, no orientation left to misread


def test_a_transparent_upload_sits_on_white_and_a_small_one_is_not_blown_up() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (100, 80), (0, 0, 0, 0)).save(out, format="PNG")
    kept = _open(images.portrait(out.getvalue(), side=320).data)
    assert kept.size == (80, 80)
    assert all(channel > 245 for channel in kept.getpixel((40, 40)))  # type: ignore[union-attr]


def test_the_same_upload_gives_the_same_version() -> None:
    data = image("WEBP")
    assert images.portrait(data, side=64).digest == images.portrait(data, side=64).digest


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Choose an image file."),
        (b"GIF89a" + b"\0" * 20, images.NOT_AN_IMAGE),
        (image("BMP"), images.NOT_AN_IMAGE),
        (image("PNG", (2100, 2100)), "too large"),
    ],
)
def test_what_is_not_a_small_picture_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(images.ImageRefused, match=message):
        images.portrait(data, side=64)


def test_a_camera_photo_of_several_megabytes_becomes_a_portrait_but_never_a_logo() -> None:
    taken = camera_photo()
    assert images.MAX_BYTES < len(taken) < images.PHOTO_MAX_BYTES
    kept = _open(images.portrait(taken, side=320).data)
    assert (kept.format, kept.size) == ("JPEG", (320, 320))
    with pytest.raises(images.ImageRefused, match="at most 512 KB"):
        images.logo(taken, side=256)
    with pytest.raises(images.ImageRefused, match="at most 8 MB"):
        images.portrait(taken + b"\0" * images.PHOTO_MAX_BYTES, side=320)


def test_only_a_jpeg_may_be_larger_than_2000_pixels_square_and_within_its_own_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(images.ImageRefused, match="2000 by 2000"):
        images.portrait(image("PNG", (2100, 2100)), side=320)
    assert _open(images.portrait(image("JPEG", (2100, 2100)), side=320).data).size == (320, 320)
    monkeypatch.setattr(images, "JPEG_MAX_PIXELS", 2000 * 2000)
    with pytest.raises(images.ImageRefused, match="50 megapixels"):
        images.portrait(image("JPEG", (2100, 2100)), side=320)
