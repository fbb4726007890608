"""What every kind of provider shares: its errors, webhooks, and what it is built with.

This module is part of the public plugin API: plugins import it, and it imports
nothing of the platform's internals (no models, no sessions, no requests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class ProviderError(Exception):
    """A provider call failed. ``reason`` is shown to staff and logged: never personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(ProviderError):
    """Worth trying again later: a 5xx or 429 (SMTP: a 4xx), a timeout, a dropped connection.

    The outbox retries with capped exponential backoff; ``retry_after`` (seconds), when the
    provider says how long to wait, is honoured as the least delay.
    """

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(ProviderError):
    """The provider refused the request (a 4xx; SMTP: a 5xx): again would fail the same way.

    ``code`` is a short machine-readable cause. ``OPTED_OUT`` means the recipient has
    unsubscribed from this channel at the provider (Twilio's error 21610, for example).
    """

    OPTED_OUT = "opted_out"

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class WebhookRequest:
    """An inbound webhook exactly as it arrived: verify ``body`` before parsing it."""

    url: str  # the full URL the provider called: scheme, host, path and query
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    topic: str  # the path segment after /-/plugins/<name>/webhook/ ("" if none)
    received_at: datetime


class WebhookRejected(Exception):
    """A bad signature, a stale timestamp or a malformed body: answered 400, nothing changes.

    The message is for logs and the provider's dashboard: say what was wrong, never echo
    the body.
    """


@dataclass(frozen=True)
class WebhookReply:
    """What the webhook endpoint answers once an event is stored (2xx)."""

    body: bytes = b""
    media_type: str = "text/plain"


@dataclass(frozen=True)
class ProviderContext(Generic[SettingsT]):
    """What a provider is built with, for one tenant.

    ``settings`` is the plugin's own settings model, validated, secrets included (keep
    them out of logs and exceptions). ``http`` is the platform's shared client: use it
    (or give its transport to your SDK) so the platform controls timeouts and tests can
    point every call at a local fake. ``public_url`` is the tenant's portal, for return
    and callback addresses; ``webhook_url`` is where this plugin's webhooks must be sent.
    """

    settings: SettingsT
    http: httpx.AsyncClient
    tenant_slug: str
    tenant_name: str
    public_url: str
    webhook_url: str


ProviderFactory = Callable[[ProviderContext[Any]], object]


# Put this in a settings field's ``json_schema_extra`` when only the platform operator may set
# it (API base URLs, the platform's own keys, platform fees): clinic admins never see it.
OPERATOR_ONLY: dict[str, Any] = {"praxis_operator_only": True}
