"""The settings fields of any plugin that name a host, and whether the platform may go there.

Found by their type (``HttpUrl``, ``AnyUrl`` and the other pydantic URL types), by the
``CONNECTS_TO`` marker, or by a name that says so (``host``, ``*_host``, ``*_url``), so a
third-party plugin's fields are checked as the built-ins' are.
"""

from __future__ import annotations

import typing
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import MultiHostUrl, Url

from praxis.core.providers.network import CONNECTS_TO, OutboundPolicy

_MARKER = next(iter(CONNECTS_TO))


def _is_url_type(annotation: Any) -> bool:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, (Url, MultiHostUrl)):
            return True
        if "Url" in getattr(candidate, "__name__", ""):  # HttpUrl, AnyUrl and the like
            return True
    return False


def names_a_host(name: str, info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    if isinstance(extra, dict) and extra.get(_MARKER):
        return True
    if _is_url_type(info.annotation):
        return True
    plain = info.annotation in (str, str | None)
    return plain and (name == "host" or name.endswith(("_host", "_url")))


def address_fields(model: type[BaseModel]) -> list[str]:
    return [name for name, info in model.model_fields.items() if names_a_host(name, info)]


def host_and_port(value: Any, default_port: int) -> tuple[str, int] | None:
    """The host a value names (a URL, ``host``, ``host:port``), or None when it names none."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    parts = urlsplit(text if "//" in text else f"//{text}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # "::1" and the like: an IPv6 address without brackets
        host, port = text, None
    if not host:
        return None
    if port is None:
        port = {"https": 443, "http": 80}.get(parts.scheme, default_port)
    return host, port


async def refused_addresses(
    policy: OutboundPolicy, model: type[BaseModel], values: BaseModel, names: typing.Iterable[str]
) -> dict[str, str]:
    """Field name -> why the platform will not connect there, for the given fields."""
    wanted = set(names)
    try:  # the settings' own port, if they have one (as typed, when not yet valid)
        default_port = int(getattr(values, "port", 0) or 0)
    except (TypeError, ValueError):
        default_port = 0
    refused: dict[str, str] = {}
    for name in address_fields(model):
        target = host_and_port(getattr(values, name, None), default_port)
        if name not in wanted or target is None:
            continue
        reason = await policy.check(*target)
        if reason is not None:
            refused[name] = reason
    return refused
