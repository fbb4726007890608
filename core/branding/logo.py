"""A clinic's logo: proved to be an image by decoding it (never trusting its name or type),
then re-encoded as a small PNG, which drops anything else the file carried (metadata such as
a location, or a script hidden in a polyglot)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 512 * 1024
MAX_PIXELS = 4_000_000  # a decompression bomb stops here
SIDE = 256  # shown at 32 px; kept sharp on high-density screens
ACCEPTED = ("PNG", "JPEG", "WEBP")


class LogoRefused(ValueError):
    pass


@dataclass(frozen=True)
class Logo:
    png: bytes
    digest: str  # names the version in its address, so browsers may keep it


def prepare(data: bytes) -> Logo:
    if not data:
        raise LogoRefused("Choose an image file.")
    if len(data) > MAX_BYTES:
        raise LogoRefused(f"Choose an image of at most {MAX_BYTES // 1024} KB.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
        if kind not in ACCEPTED:
            raise LogoRefused("Choose a PNG, JPEG or WebP image.")
        if width * height > MAX_PIXELS:
            raise LogoRefused("This image is too large: use one under 2000 by 2000 pixels.")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            picture = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise LogoRefused("Choose a PNG, JPEG or WebP image.") from None
    picture.thumbnail((SIDE, SIDE))
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    png = out.getvalue()
    return Logo(png, hashlib.sha256(png).hexdigest())
