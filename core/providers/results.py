"""Checking what a provider returned against its operation's DTO, before it is used.

The facade runs this on every result before it records the call's outcome: a plugin that
returns ``None``, a dict, a naive datetime or a ``javascript:`` link fails there, named with
the field, instead of being recorded as a success and breaking something later. Plugin authors
can run it in their own tests (``praxis.core.testing`` does).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from pydantic import TypeAdapter, ValidationError

from praxis.core.providers.common import Kind, Operation


class InvalidResult(Exception):
    """A result does not fit its DTO; ``field`` is "" when the result itself is wrong. The
    message never quotes the value (it may hold personal data or a secret link)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


_ADAPTERS: dict[type, tuple[tuple[str, TypeAdapter[Any]], ...]] = {}


def _fields(result: type) -> tuple[tuple[str, TypeAdapter[Any]], ...]:
    """Each field of a result DTO with its validator, built once per DTO."""
    found = _ADAPTERS.get(result)
    if found is None:
        hints = typing.get_type_hints(result, include_extras=True)
        found = tuple(
            (field.name, TypeAdapter(hints[field.name])) for field in dataclasses.fields(result)
        )
        _ADAPTERS[result] = found
    return found


def _what(value: object) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


def check_result(operation: Operation[Any, Any], result: object, *, allow_http: bool) -> None:
    """Raise InvalidResult unless ``result`` is exactly what ``operation`` promises.

    ``allow_http``: links may be http (development, the local sandbox); otherwise https.
    """
    expected = operation.result
    if expected is None:
        if result is not None:
            raise InvalidResult("", f"returned {_what(result)} where nothing was expected")
        return
    if not isinstance(result, expected):
        raise InvalidResult("", f"returned {_what(result)}, not a {expected.__name__}")
    _check_fields(expected, result, allow_http=allow_http)


def _check_fields(dto: type, value: object, *, allow_http: bool) -> None:
    context = {"allow_http": allow_http}
    for name, adapter in _fields(dto):
        try:
            adapter.validate_python(getattr(value, name), strict=True, context=context)
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            raise InvalidResult(name, str(first["msg"]).removeprefix("Value error, ")) from None


def check_event(kind: Kind, event: object) -> None:
    """Raise InvalidResult unless ``event`` is one of the events ``kind``'s webhooks give,
    every field fitting (an id, aware times)."""
    if type(event) not in kind.events:
        expected = " or ".join(e.__name__ for e in kind.events) or "no event"
        raise InvalidResult("", f"returned {_what(event)}, not a {expected}")
    _check_fields(type(event), event, allow_http=False)
