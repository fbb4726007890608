"""Inbound webhooks: verified on the raw body, stored once, applied in the same transaction.

The provider's plugin verifies the signature (constant-time, with a timestamp tolerance where
the provider sends one) and reads the event before anything is stored. The event is then
stored by (plugin, event id) under a unique key in the same transaction as its effect, so a
replay, a duplicate or ten at once change things exactly once. A rejected webhook is
answered 400 and touches nothing. What an event means is its domain's business: each
registers an applier for the event types it owns (``@applies(PaymentEvent)``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.db import table_of, utcnow
from praxis.core.errors import NotFound, ProviderNotReady
from praxis.core.logs import where_it_failed
from praxis.core.plugins.facade import PluginFault
from praxis.core.plugins.registry import Registry
from praxis.core.providers.common import WebhookRejected, WebhookReply, WebhookRequest
from praxis.core.providers.kinds import KINDS
from praxis.core.providers.results import InvalidResult, check_event
from praxis.core.tenancy import Database, insert_rows, run
from praxis.core.webhooks.models import WebhookEvent
from praxis.tenants.directory import TenantInfo

log = structlog.get_logger("praxis.webhooks")
_SEEN = insert_rows(table_of(WebhookEvent))

Applier = Callable[[AsyncSession, TenantInfo, str, Any, datetime], Awaitable[None]]
APPLIERS: dict[type, Applier] = {}


def applies(event_type: type) -> Callable[[Applier], Applier]:
    """Register what a verified event of ``event_type`` changes: (db, tenant, plugin, event,
    now), in the transaction that stores the event."""

    def register(applier: Applier) -> Applier:
        if APPLIERS.get(event_type, applier) is not applier:
            raise RuntimeError(f"two appliers for {event_type.__name__}")
        APPLIERS[event_type] = applier
        return applier

    return register


def _parse(provider: Any, plugin: str, request: WebhookRequest, *, development: bool) -> Any:
    """The plugin verifies and reads the webhook; a crash in it is its own fault, named (the
    message is left out: it may quote the body)."""
    try:
        return provider.parse_webhook(request)  # verifies the signature first
    except WebhookRejected:
        raise
    except Exception as exc:
        fields = {"plugin": plugin, "operation": "parse_webhook", **where_it_failed(exc)}
        if development:
            log.exception("webhook_parse_failed", exc_info=exc, **fields)
        else:
            log.error("webhook_parse_failed", **fields)
        raise PluginFault(
            f"plugin {plugin} failed unexpectedly in parse_webhook ({type(exc).__name__})"
        ) from None


async def ingest(
    database: Database,
    registry: Registry,
    tenant: TenantInfo,
    plugin: str,
    request: WebhookRequest,
) -> WebhookReply:
    """Verify, store once, apply. Raises NotFound (no such endpoint) or WebhookRejected."""
    try:
        async with database.reading(tenant.id) as db:
            built = await registry.build_used(db, tenant, plugin)
    except ProviderNotReady:
        raise NotFound("Not found.") from None  # without settings nothing can be verified
    kind = KINDS[built.manifest.kind]
    if not kind.events or not hasattr(built.provider, "parse_webhook"):
        raise NotFound("Not found.")  # takes no webhooks (questionnaires, most email plugins)
    event = _parse(built.provider, plugin, request, development=registry.settings.is_development)
    reply: WebhookReply = getattr(built.provider, "webhook_reply", WebhookReply())
    if event is None:
        return reply  # a kind of event the platform does not use
    try:
        check_event(kind, event)
    except InvalidResult as exc:
        log.error("webhook_event_unusable", plugin=plugin, problem=str(exc))
        raise PluginFault(f"plugin {plugin} read a webhook into an unusable event: {exc}") from None
    applier = APPLIERS[type(event)]
    now = utcnow()
    seen = {
        "plugin": plugin,
        "event_id": event.event_id[:200],
        "event_type": type(event).__name__,
        "received_at": now,
    }
    async with database.writing(tenant.id) as db:
        try:
            await run(db, _SEEN, seen)
        except IntegrityError:
            await db.rollback()
            log.info("webhook_replayed", plugin=plugin)
            return reply  # seen before: its effect is already there
        await applier(db, tenant, plugin, event, now)
        await db.commit()
    return reply
