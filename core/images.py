"""Pictures people upload (a clinic's logo, a Professional's photo): proved to be an image by
decoding it (never trusting its name or type), then re-encoded, which drops anything else the
file carried (metadata such as a location, or a script hidden in a polyglot)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 512 * 1024  # a logo
PHOTO_MAX_BYTES = 8 * 1024 * 1024  # a phone camera's photo, as it comes
MAX_PIXELS = 4_000_000  # a decompression bomb stops here...
JPEG_MAX_PIXELS = 50_000_000  # ...except a JPEG, decoded at a fraction of its size (draft)
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


def _size_in_words(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def _decoded(data: bytes, *, max_bytes: int = MAX_BYTES, at_least: int = 0) -> Image.Image:
    """The upload decoded; with ``at_least``, a large JPEG is decoded at the smallest scale
    that keeps both sides at least that long (a camera's 12 MP photo costs a fraction)."""
    if not data:
        raise ImageRefused("Choose an image file.")
    if len(data) > max_bytes:
        raise ImageRefused(f"Choose an image of at most {_size_in_words(max_bytes)}.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
        if kind not in ACCEPTED:
            raise ImageRefused(NOT_AN_IMAGE)
        scaled = kind == "JPEG" and at_least > 0
        if width * height > (JPEG_MAX_PIXELS if scaled else MAX_PIXELS):
            raise ImageRefused(
                "This image is too large: use a photo of at most 50 megapixels."
                if scaled
                else "This image is too large: use one under 2000 by 2000 pixels."
            )
        with Image.open(io.BytesIO(data)) as image:
            if scaled:
                image.draft("RGB", (at_least, at_least))
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
    decoded = _decoded(data, max_bytes=PHOTO_MAX_BYTES, at_least=side)
    edge = min(side, *decoded.size)  # a small upload is not blown up
    picture = ImageOps.fit(decoded, (edge, edge))
    flat = Image.new("RGB", picture.size, (255, 255, 255))
    flat.paste(picture, mask=picture.getchannel("A"))
    out = io.BytesIO()
    flat.save(out, format="JPEG", quality=85, optimize=True)
    return _picture(out.getvalue(), "image/jpeg")
