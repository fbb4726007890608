"""The contract's checks: a POST /meetings body, and the fields and limit queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

_FIELDS = {"hostRoomUrl", "viewerRoomUrl"}
_SCALARS = ("endDate", "startDate", "isLocked", "roomMode", "roomNamePrefix", "roomNamePattern")
_OBJECTS = ("recording", "liveTranscription", "streaming")
_CREATE_PROPERTIES = {*_SCALARS, *_OBJECTS, "templateType", "fields"}
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", re.IGNORECASE
)
_PREFIX = re.compile(r"[a-z0-9]{0,39}")  # the contract's pattern, read anchored (stricter)


class ContractError(Exception):
    """A request the contract does not allow: answered 400 with Whereby's error body."""


@dataclass(frozen=True)
class NewMeeting:
    """A POST /meetings body once checked, its defaults filled in."""

    end: datetime
    locked: bool
    mode: str
    pattern: str
    prefix: str
    fields: set[str]


def create_values(body: Any) -> NewMeeting:
    """The POST /meetings body checked against the contract, with its defaults filled in."""
    if not isinstance(body, dict):
        raise ContractError("The body must be a JSON object")
    unknown = sorted(set(body) - _CREATE_PROPERTIES)
    if unknown:  # stricter than the contract: a misspelt property fails here, not silently
        raise ContractError(f'"{unknown[0]}" is not allowed')
    if "endDate" not in body:
        raise ContractError('"endDate" is required')
    end = _date_time(body["endDate"], "endDate")
    if end < datetime.now(UTC):
        raise ContractError('"endDate" must be the same or after the current date')
    if "startDate" in body:
        _date_time(body["startDate"], "startDate")  # deprecated and ignored, but typed
    locked = body.get("isLocked", False)
    if not isinstance(locked, bool):
        raise ContractError('"isLocked" must be a boolean')
    for name in _OBJECTS:
        if name in body and not isinstance(body[name], dict):
            raise ContractError(f'"{name}" must be an object')
    _enum(body, "templateType", ("viewerMode",), "")
    return NewMeeting(
        end=end,
        locked=locked,
        mode=_enum(body, "roomMode", ("group", "normal"), "normal"),
        pattern=_enum(body, "roomNamePattern", ("uuid", "human-short"), "uuid"),
        prefix=_prefix(body.get("roomNamePrefix", "")),
        fields=_field_names(body.get("fields", [])),
    )


def _date_time(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise ContractError(f'"{name}" must be a valid ISO 8601 date-time')
    moment = datetime.fromisoformat(value.upper())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _enum(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    if name in body and body[name] not in allowed:
        raise ContractError(f'"{name}" must be one of [{", ".join(allowed)}]')
    return str(body.get(name, default))


def _prefix(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 39:
        raise ContractError('"roomNamePrefix" must be a string of at most 39 characters')
    prefix = value.replace(" ", "")  # "spaces will be automatically removed"
    if not _PREFIX.fullmatch(prefix):
        raise ContractError('"roomNamePrefix" must match [a-z0-9]{0,39}')
    return prefix


def _field_names(values: Any) -> set[str]:
    if not isinstance(values, list) or not all(v in _FIELDS for v in values):
        raise ContractError('"fields" must be an array of [hostRoomUrl, viewerRoomUrl]')
    return set(values)


def fields_query(request: Request) -> set[str]:
    """``fields`` is form style, not exploded: fields=hostRoomUrl,viewerRoomUrl."""
    names = [n for raw in request.query_params.getlist("fields") for n in raw.split(",") if n]
    return _field_names(names)


def page_limit(raw: str | None) -> int:
    if raw is None:
        return 50
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise ContractError('"limit" must be an integer from 1 to 100')
    return int(raw)
