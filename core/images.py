"""Pictures people upload (a clinic's logo, a Professional's photo): proved to be an image by
decoding it (never trusting its name or type), then re-encoded, which drops anything else the
file carried (metadata such as a location, or a script hidden in a polyglot)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 512 * 1024
MAX_PIXELS = 4_000_000  # a decompression bomb stops here
ACCEPTED = ("PNG", "JPEG", "WEBP")
NOT_AN_IMAGE = "Choose a PNG, JPEG or WebP image."


class ImageRefused(ValueError):
    pass


@dataclass(frozen=True)
class Picture:
    data: bytes
    media_type: str
    digest: str  # names the version in its address, so browsers may keep it

    @property
    def version(self) -> str:
        return self.digest[:12]


def _decoded(data: bytes) -> Image.Image:
    if not data:
        raise ImageRefused("Choose an image file.")
    if len(data) > MAX_BYTES:
        raise ImageRefused(f"Choose an image of at most {MAX_BYTES // 1024} KB.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
        if kind not in ACCEPTED:
            raise ImageRefused(NOT_AN_IMAGE)
        if width * height > MAX_PIXELS:
            raise ImageRefused("This image is too large: use one under 2000 by 2000 pixels.")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            # A phone's photo stands upright by its EXIF tag, which re-encoding drops.
            return ImageOps.exif_transpose(image).convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ImageRefused(NOT_AN_IMAGE) from None


def _picture(data: bytes, media_type: str) -> Picture:
    return Picture(data, media_type, hashlib.sha256(data).hexdigest())


def logo(data: bytes, *, side: int) -> Picture:
    """A PNG within ``side`` square, its shape and transparency kept."""
    picture = _decoded(data)
    picture.thumbnail((side, side))
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return _picture(out.getvalue(), "image/png")


def portrait(data: bytes, *, side: int) -> Picture:
    """A square JPEG of ``side`` pixels, cropped about the centre (a face, usually), on white
    where the upload was transparent."""
    decoded = _decoded(data)
    edge = min(side, *decoded.size)  # a small upload is not blown up
    picture = ImageOps.fit(decoded, (edge, edge))
    flat = Image.new("RGB", picture.size, (255, 255, 255))
    flat.paste(picture, mask=picture.getchannel("A"))
    out = io.BytesIO()
    flat.save(out, format="JPEG", quality=85, optimize=True)
    return _picture(out.getvalue(), "image/jpeg")
