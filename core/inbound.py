"""Inbound webhooks: verified on the raw body, stored once, applied in the same transaction.

The provider's plugin verifies the signature (constant-time, with a timestamp tolerance where
the provider sends one) and reads the event before anything is stored. The event is then
stored by (plugin, event id) under a unique key in the same transaction as its effect, so a
replay, a duplicate or ten at once change things exactly once. A rejected webhook is
answered 400 and touches nothing.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.db import table_of, utcnow
from praxis.core.errors import NotFound, ProviderNotReady
from praxis.core.notifications import services as notifications
from praxis.core.payments import services as payments
from praxis.core.providers.common import WebhookReply, WebhookRequest
from praxis.core.providers.payments import PaymentEvent
from praxis.core.providers.sms import SmsInbound, SmsStatusUpdate
from praxis.core.providers.video import AttendanceEvent
from praxis.core.runtime import Runtime
from praxis.core.statements import run
from praxis.core.video import services as video
from praxis.core.webhooks import WebhookEvent
from praxis.tenants.directory import TenantInfo

log = structlog.get_logger("praxis.webhooks")
_SEEN = insert(table_of(WebhookEvent))


async def ingest(
    rt: Runtime, tenant: TenantInfo, plugin: str, request: WebhookRequest
) -> WebhookReply:
    """Verify, store once, apply. Raises NotFound (no such endpoint) or WebhookRejected."""
    try:
        async with rt.database.reading(tenant.id) as db:
            built = await rt.registry.build_used(db, tenant, plugin)
    except ProviderNotReady:
        raise NotFound("Not found.") from None  # without settings nothing can be verified
    parse = getattr(built.provider, "parse_webhook", None)
    if parse is None:
        raise NotFound("Not found.")  # a plugin that takes no webhooks (questionnaires, email)
    event = parse(request)  # verifies the signature first
    reply: WebhookReply = getattr(built.provider, "webhook_reply", WebhookReply())
    if event is None:
        return reply  # a kind of event the platform does not use
    now = utcnow()
    seen = {
        "plugin": plugin,
        "event_id": event.event_id[:200],
        "event_type": type(event).__name__,
        "received_at": now,
    }
    async with rt.database.writing(tenant.id) as db:
        try:
            await run(db, _SEEN, seen)
        except IntegrityError:
            await db.rollback()
            log.info("webhook_replayed", plugin=plugin)
            return reply  # seen before: its effect is already there
        await _apply(db, tenant, plugin, event, now=now)
        await db.commit()
    return reply


async def _apply(
    db: AsyncSession, tenant: TenantInfo, plugin: str, event: object, *, now: datetime
) -> None:
    if isinstance(event, PaymentEvent):
        await payments.apply_event(db, tenant, plugin, event, now=now)
    elif isinstance(event, AttendanceEvent):
        await video.apply_attendance(db, plugin, event)
    elif isinstance(event, SmsStatusUpdate):
        await notifications.apply_status(db, tenant, plugin, event)
    elif isinstance(event, SmsInbound):
        await notifications.apply_inbound(db, tenant, event)
    else:
        raise TypeError(f"plugin {plugin} returned an event the platform does not know")
