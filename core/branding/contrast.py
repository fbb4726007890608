"""WCAG 2 contrast: the portal puts white text on the main colour (header, buttons) and uses
the accent for focus outlines and borders on white."""

from __future__ import annotations

WHITE = "#ffffff"
TEXT_RATIO = 4.5  # WCAG 1.4.3, normal text
OUTLINE_RATIO = 3.0  # WCAG 1.4.11, non-text: focus outlines, borders


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    hex_digits = colour.lstrip("#")
    r, g, b = (int(hex_digits[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def ratio(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def problems(primary: str, accent: str) -> dict[str, str]:
    """Why a pair is unreadable, per field; empty when both pass."""
    found = {}
    main = ratio(primary, WHITE)
    if main < TEXT_RATIO:
        found["primary_colour"] = (
            f"White text on this colour is hard to read (contrast {main:.1f}:1, at least "
            f"{TEXT_RATIO}:1 needed). Choose a darker colour."
        )
    outline = ratio(accent, WHITE)
    if outline < OUTLINE_RATIO:
        found["accent_colour"] = (
            f"This colour barely shows on white (contrast {outline:.1f}:1, at least "
            f"{OUTLINE_RATIO:.0f}:1 needed for focus outlines). Choose a darker colour."
        )
    return found
