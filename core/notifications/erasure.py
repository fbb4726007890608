"""Texts sent to an erased person, erased at the SMS provider too (P33).

When privacy announces ``PERSON_ERASED``, each text sent to the person through the clinic's
SMS provider becomes one outbox job asking that provider, through the facade, to erase it:
the ledger records each ask and its outcome (or that the clinic's plugin cannot erase texts),
naming the processor and never the number or the words. Email cannot be erased once relayed
(SMTP keeps no handle on a message), so the email kind has no such operation.
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.events import PERSON_ERASED
from praxis.core.db import utcnow
from praxis.core.notifications.models import SentMessage
from praxis.core.outbox import Happened, Job, handles, subscribe

ERASE_SMS_TOPIC = "notify.erase_sms"
ERASED = "erased"  # a sent_messages status: the provider erased the text
log = structlog.get_logger("praxis.notifications")


@subscribe(PERSON_ERASED)
async def texts_to_erase(db: AsyncSession, happened: Happened) -> None:
    """One job per text sent to the person through the clinic's SMS provider of today (the
    facade reaches only that one: texts sent through an earlier provider are the clinic's to
    ask for)."""
    plugin = happened.tenant.providers.get("sms")
    if not plugin:
        return
    sent = await db.scalars(
        select(SentMessage.id).where(
            SentMessage.recipient_id == uuid.UUID(happened.payload["subject_id"]),
            SentMessage.channel == "sms",
            SentMessage.plugin == plugin,
            SentMessage.provider_ref != "",
            SentMessage.status != ERASED,
        )
    )
    for message_id in sent:
        happened.follow_with(ERASE_SMS_TOPIC, {"message_id": str(message_id)})


@handles(ERASE_SMS_TOPIC)
async def erase_sms(job: Job) -> None:
    message_id = uuid.UUID(job.payload["message_id"])
    async with job.reading() as db:
        message = await db.get(SentMessage, (job.tenant.id, message_id))
    if message is None or message.status == ERASED:
        return
    if (await job.providers.built("sms")).manifest.name != message.plugin:
        log.info("sms_erasure_not_asked", reason="the clinic changed its SMS provider since")
        return
    erased = await job.providers.sms.erase_message(
        subject_id=message.recipient_id,
        message_id=message.provider_ref,
        idempotency_key=job.key,
    )
    if not erased:
        return  # the plugin cannot erase texts: the facade has said so in the ledger
    async with job.writing() as db:
        found = await db.get(SentMessage, (job.tenant.id, message_id))
        if found is not None:
            found.status, found.updated_at = ERASED, utcnow()
        await job.done(db)
        await db.commit()
