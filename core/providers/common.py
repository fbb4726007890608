"""What every kind of provider shares: the data categories, the errors, webhooks, what a
provider is built with, and how each kind and each of its operations is described.

This module is part of the public plugin API: plugins import it, and it imports nothing of the
platform's internals (no models, no sessions, no requests).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import AfterValidator, BaseModel, StringConstraints, ValidationInfo

if TYPE_CHECKING:
    from praxis.core.providers.network import OutboundPolicy

# The plugin API's version: a manifest says which it needs (``requires``), checked at load.
# Minor versions only add; a major version breaks. See docs/plugin-api-changelog.md.
PLUGIN_API = "1.4"

SettingsT = TypeVar("SettingsT", bound=BaseModel)
RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")
PluginKind = Literal["video", "payments", "sms", "email", "questionnaires"]


class DataCategory(enum.StrEnum):
    """Categories of personal data, as a privacy notice names them."""

    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    APPOINTMENT = "appointment"
    PAYMENT = "payment"
    HEALTH = "health"  # special category (UK GDPR Art. 9)


def _person_link(value: str, info: ValidationInfo) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be an https:// address")
    if parts.scheme == "http" and not (info.context or {}).get("allow_http"):
        raise ValueError("must be an https:// address (http is allowed in development only)")
    return value


# Result fields are checked by the platform before it records a call's outcome:
# a link a person is sent to (https; http in development only), a provider's id.
PersonLink = Annotated[str, AfterValidator(_person_link)]
ProviderId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


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


class AnswerLost(TemporaryFailure):
    """The request may have reached the provider, but its answer never came back (a read
    timeout, a connection dropped after sending). Retried like any TemporaryFailure; the
    ledger records the disclosure as *unknown* until a later attempt can tell, through the
    result's ``recovered``, whether this one had arrived."""


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
    ``network`` (since 1.3) says where a plugin that opens its own connections may connect
    (``OutboundPolicy.resolve``); by default nowhere inward, and TLS required.
    """

    settings: SettingsT
    http: httpx.AsyncClient
    tenant_slug: str
    tenant_name: str
    public_url: str
    webhook_url: str
    network: OutboundPolicy = field(default_factory=lambda: _strict_policy())


def _strict_policy() -> OutboundPolicy:
    from praxis.core.providers.network import OutboundPolicy  # it imports this module

    return OutboundPolicy()


ProviderFactory = Callable[[ProviderContext[Any]], object]


# Put this in a settings field's ``json_schema_extra`` when only the platform operator may set
# it (API base URLs, the platform's own keys, platform fees): clinic admins never see it.
OPERATOR_ONLY: dict[str, Any] = {"praxis_operator_only": True}


@dataclass(frozen=True)
class Operation(Generic[RequestT, ResultT]):
    """One thing a kind of provider does: the method ``name`` takes ``request`` and returns
    ``result`` (None: nothing). ``sends`` is the most personal data the platform sends with
    it: every plugin's manifest must declare at least these for the operation.

    ``optional`` (since 1.2): a plugin may leave the method out and still conform; the
    platform then skips the call and says so. Optional methods are not in the kind's
    Protocol. ``erases``: the operation asks the provider to erase what it holds about a
    person, of these categories; each call is recorded as an erasure, never with the content.
    """

    name: str
    request: type[RequestT]
    result: type[ResultT] | None
    sends: tuple[DataCategory, ...]
    description: str
    optional: bool = False
    erases: tuple[DataCategory, ...] = ()


@dataclass(frozen=True)
class Kind:
    """A kind of provider, described once: everything else (the manifest's kinds, the
    conformance kit, the facade, the admin pages, the docs) is derived from these."""

    name: PluginKind
    words: str  # what a clinic calls it: "text messages"
    protocol: type
    operations: tuple[Operation[Any, Any], ...]
    events: tuple[type, ...] = ()  # what its parse_webhook may return (none: no webhooks)
    webhooks_optional: bool = False  # a plugin of this kind may take none (email, since 1.1)

    def operation(self, name: str) -> Operation[Any, Any]:
        return next(op for op in self.operations if op.name == name)

    @property
    def optional(self) -> tuple[Operation[Any, Any], ...]:
        """The operations a plugin of this kind may leave out (since 1.2)."""
        return tuple(op for op in self.operations if op.optional)
