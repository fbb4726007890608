"""What the fake keeps besides meetings: organisations (API keys) and requests received."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Organisation:
    api_key: str
    webhook_url: str | None
    webhook_secret: str | None


@dataclass
class ReceivedRequest:
    method: str
    path: str  # below the mount point, e.g. /v1/meetings
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: Any  # the parsed JSON, or None
    status: int | None = None  # what the fake answered, once it has
