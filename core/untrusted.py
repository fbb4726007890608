"""What people send, read defensively: JSON with bounded nesting and numbers, text without
control characters. Malformed input becomes a sentence to show, never a crash (a 500)."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32  # API bodies nest a few levels; FHIR questionnaires ask for more (see callers)
MAX_NUMBER_CHARS = 40  # past ~4,300 digits int() raises; no field of ours needs 40
# C0 controls and DEL, less tab, line feed and carriage return (typed in text areas).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class UnreadableJson(ValueError):
    """The text is not JSON we accept; ``message`` says why, without echoing it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def has_control_characters(text: str) -> bool:
    """NUL and other invisible control characters: PostgreSQL refuses NUL, no one types them."""
    return _CONTROL.search(text) is not None


def read_json(raw: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON a person sent, or raise UnreadableJson with a sentence they can act on."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise UnreadableJson("This is not JSON (send UTF-8 text).") from None
    if _nesting(text) > max_depth:
        raise UnreadableJson(f"This JSON is nested too deeply (at most {max_depth} levels).")
    try:
        value = json.loads(
            text, parse_int=_number(int), parse_float=_number(float), parse_constant=_constant
        )
    except UnreadableJson:
        raise
    except (ValueError, RecursionError):
        raise UnreadableJson("This is not JSON.") from None
    if _has_control_text(value):
        raise UnreadableJson("Remove the control characters (such as NUL) from the text.")
    return value


def _nesting(text: str) -> int:
    """How deep brackets nest outside strings, counted without recursion."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _number(kind: type[int] | type[float]) -> Any:
    def bounded(literal: str) -> int | float:
        if len(literal) > MAX_NUMBER_CHARS:
            raise UnreadableJson(f"Numbers may have at most {MAX_NUMBER_CHARS} characters.")
        return kind(literal)

    return bounded


def _constant(name: str) -> Any:
    raise UnreadableJson(f"{name} is not a JSON number; send a number or null.")


def _has_control_text(value: Any) -> bool:
    """Any string, key or value, with control characters (depth is bounded already)."""
    if isinstance(value, str):
        return has_control_characters(value)
    if isinstance(value, dict):
        return any(_has_control_text(k) or _has_control_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_control_text(item) for item in value)
    return False
