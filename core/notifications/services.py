"""Sending confirmations, reminders and replies, and honouring STOP.

Every message is an outbox job holding ids only; the handler reads the consumer's current
number or address when it runs, so a changed number or an opt-out in the meantime counts.
Nothing is sent to a number that said STOP (or that the provider reports as unsubscribed).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_datetime
from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from praxis.core import outbox
from praxis.core.accounts.models import Role, User
from praxis.core.accounts.restriction import restricted
from praxis.core.booking.events import (
    APPOINTMENT_CANCELLED,
    APPOINTMENT_CONFIRMED,
    APPOINTMENT_RESCHEDULED,
)
from praxis.core.booking.models import Appointment, AppointmentStatus
from praxis.core.consents import services as consents
from praxis.core.consents.kinds import MARKETING_SMS, SERVICE_EMAIL, SERVICE_SMS, Method
from praxis.core.db import utcnow
from praxis.core.money import money
from praxis.core.notifications import calendar
from praxis.core.notifications.messages import Facts, email_text, sms_text
from praxis.core.notifications.models import InboundSms, SentMessage
from praxis.core.outbox import Happened, Job, handles, subscribe
from praxis.core.payments.services import refunded_for
from praxis.core.providers.common import PermanentFailure
from praxis.core.providers.email import Attachment
from praxis.core.providers.manifest import DataCategory
from praxis.core.providers.sms import SmsInbound, SmsStatusUpdate
from praxis.core.webhooks import applies
from praxis.tenants.directory import TenantInfo

SMS_TOPIC = "notify.sms"
EMAIL_TOPIC = "notify.email"
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
ABOUT_APPOINTMENT = (DataCategory.APPOINTMENT,)
REPORT = Method.PROVIDER_REPORT
SKIPPED = "skipped"  # a sent_messages status: consent was withdrawn before the job ran
# Emails that carry the appointment's .ics (the cancellation's text is enough).
WITH_CALENDAR = frozenset({"booking_confirmed", "payment_confirmed", "reminder", "rescheduled"})


def appointment_message_jobs(
    tenant: TenantInfo, appointment_id: uuid.UUID, template: str, **extra: str
) -> list[dict[str, Any]]:
    """SMS and email about an appointment, one job for each channel the clinic has chosen."""
    payload = {"template": template, "appointment_id": str(appointment_id), **extra}
    topics = [
        t for kind, t in (("sms", SMS_TOPIC), ("email", EMAIL_TOPIC)) if tenant.providers.get(kind)
    ]
    return [outbox.job_row(tenant.id, topic, payload) for topic in topics]


def queue_appointment_messages(
    db: AsyncSession, tenant: TenantInfo, appointment_id: uuid.UUID, template: str, **extra: str
) -> None:
    outbox.stage(db, appointment_message_jobs(tenant, appointment_id, template, **extra))


@subscribe(APPOINTMENT_CONFIRMED)
async def confirmation_messages(db: AsyncSession, happened: Happened) -> None:
    template = "payment_confirmed" if happened.payload["paid"] else "booking_confirmed"
    appointment_id = uuid.UUID(happened.payload["appointment_id"])
    happened.jobs.extend(appointment_message_jobs(happened.tenant, appointment_id, template))


@subscribe(APPOINTMENT_CANCELLED)
async def cancellation_messages(db: AsyncSession, happened: Happened) -> None:
    """Only a confirmed appointment's cancellation is told: a hold never was (nor one
    cancelled because its consumer is being erased)."""
    if happened.payload["was_confirmed"] and happened.payload.get("tell", True):
        appointment_id = uuid.UUID(happened.payload["appointment_id"])
        happened.jobs.extend(appointment_message_jobs(happened.tenant, appointment_id, "cancelled"))


@subscribe(APPOINTMENT_RESCHEDULED)
async def rescheduled_messages(db: AsyncSession, happened: Happened) -> None:
    """A confirmed appointment moved: the new time, told (a time only held is not)."""
    if happened.payload["confirmed"]:
        appointment_id = uuid.UUID(happened.payload["appointment_id"])
        happened.jobs.extend(
            appointment_message_jobs(happened.tenant, appointment_id, "rescheduled")
        )


def _when(tenant: TenantInfo, moment: datetime) -> str:
    local = moment.astimezone(tenant.zone)
    return str(format_datetime(local, "EEE d MMM 'at' HH:mm", locale=tenant.locale))


async def _appointment(db: AsyncSession, appointment_id: uuid.UUID) -> Appointment | None:
    return await db.scalar(
        select(Appointment)
        .options(
            joinedload(Appointment.consumer),
            joinedload(Appointment.professional),
            joinedload(Appointment.consultation_type),
        )
        .where(Appointment.id == appointment_id)
    )


async def _refund_words(db: AsyncSession, job: Job, appointment: Appointment) -> str:
    """What a cancellation message says about money back (asked for in the same event)."""
    if job.payload["template"] != "cancelled":
        return ""
    refunded = await refunded_for(db, appointment.id)
    return f"{money(refunded, appointment.currency)} will be refunded." if refunded else ""


def _facts(job: Job, appointment: Appointment, refund: str = "") -> Facts:
    tenant = job.tenant
    return Facts(
        clinic=tenant.name,
        when=_when(tenant, appointment.starts_at),
        link=f"{job.site_url}/appointments/{appointment.id}",
        contact=tenant.controller.dpo_contact,
        refund=f" {refund}" if refund else "",
        professional=appointment.professional.display_name,
        how=calendar.how(tenant, appointment),
        zone=tenant.timezone,
    )


def _attachments(job: Job, template: str, appointment: Appointment) -> tuple[Attachment, ...]:
    if template not in WITH_CALENDAR:
        return ()
    link = f"{job.site_url}/appointments/{appointment.id}"
    host = job.site_url.split("://", 1)[-1]
    data = calendar.ics(job.tenant, appointment, link=link, host=host, now=utcnow())
    return (Attachment(calendar.FILENAME, calendar.CONTENT_TYPE, data),)


def _still_relevant(template: str, appointment: Appointment) -> bool:
    """A reminder or confirmation for an appointment cancelled meanwhile is not sent."""
    if template == "cancelled":
        return appointment.status == AppointmentStatus.CANCELLED.value
    return appointment.status == AppointmentStatus.BOOKED.value


async def is_opted_out(db: AsyncSession, phone: str, subject_id: uuid.UUID | None = None) -> bool:
    """Whether appointment texts to this number (or this person) are withdrawn, now."""
    whose = consents.Whose(subject_id, phone)
    return not await consents.allows(db, SERVICE_SMS, whose)


async def _already_sent(db: AsyncSession, job_id: uuid.UUID) -> bool:
    query = select(SentMessage.id).where(SentMessage.job_id == job_id)
    return await db.scalar(query) is not None


async def opt_out(
    db: AsyncSession,
    tenant: TenantInfo,
    phone: str,
    source: str,
    *,
    now: datetime,
    method: Method = Method.SMS_KEYWORD,
) -> None:
    """Record that ``phone`` wants no more texts: appointment texts, and marketing texts if
    it had them (STOP to the clinic's number stops everything that number gets)."""
    subject = await _person_with(db, phone)
    whose = consents.Whose(subject, phone)
    for kind in (SERVICE_SMS, MARKETING_SMS):
        if kind is MARKETING_SMS and not await consents.allows(db, kind, whose):
            continue  # nothing to withdraw: no record of a refusal never asked
        await consents.record(
            db, kind, whose, given=False, method=method, clinic=tenant.name, note=source, now=now
        )


async def opt_in(db: AsyncSession, tenant: TenantInfo, phone: str, *, now: datetime) -> None:
    """START brings appointment texts back; marketing needs its own opt-in in the portal."""
    whose = consents.Whose(await _person_with(db, phone), phone)
    if await consents.allows(db, SERVICE_SMS, whose):
        return
    await consents.record(
        db,
        SERVICE_SMS,
        whose,
        given=True,
        method=Method.SMS_KEYWORD,
        clinic=tenant.name,
        note="reply START",
        now=now,
    )


async def _person_with(db: AsyncSession, phone: str) -> uuid.UUID | None:
    """The account this number belongs to, for the ledger's "about whom" (None: unknown).
    Texts go to consumers, so a consumer's account comes before a staff one sharing it."""
    staff_last = case((User.role == Role.CONSUMER.value, 0), else_=1)
    found: uuid.UUID | None = await db.scalar(
        select(User.id)
        .where(User.phone == phone)
        .order_by(staff_last, User.created_at, User.id)
        .limit(1)
    )
    return found


async def skipped(
    job: Job, channel: str, template: str, recipient_id: uuid.UUID | None, **ids: Any
) -> None:
    """A job whose consent was withdrawn after it was queued: noted as skipped, nothing sent."""
    async with job.writing() as db:
        db.add(
            SentMessage(
                channel=channel,
                template=template,
                plugin="",
                provider_ref="",
                recipient_id=recipient_id,
                job_id=job.id,
                status=SKIPPED,
                error_code="no_consent",
                **ids,
            )
        )
        await job.done(db)
        await db.commit()


@handles(SMS_TOPIC)
async def send_sms(job: Job) -> None:
    template = str(job.payload["template"])
    async with job.reading() as db:
        if await _already_sent(db, job.id):
            return
        if template == "help":
            inbound = await db.get(
                InboundSms, (job.tenant.id, uuid.UUID(job.payload["inbound_id"]))
            )
            if inbound is None:
                return
            phone, appointment_id = inbound.phone, None
            subject_id = await _person_with(db, phone)  # whose number is disclosed, if known
            body = sms_text(
                "help", Facts(job.tenant.name, "", "", job.tenant.controller.dpo_contact)
            )
            about: tuple[DataCategory, ...] = ()
        else:
            appointment = await _appointment(db, uuid.UUID(job.payload["appointment_id"]))
            if appointment is None or not _still_relevant(template, appointment):
                return
            if restricted(appointment.consumer):
                return  # restricted (Art. 18): checked again when the job runs, nothing sent
            phone, subject_id = appointment.consumer.phone, appointment.consumer_id
            if not phone:
                return  # no phone number on the patient's record: no text
            appointment_id = appointment.id
            refund = await _refund_words(db, job, appointment)
            body = sms_text(template, _facts(job, appointment, refund))
            about = ABOUT_APPOINTMENT
        # Said STOP, or withdrew it in the portal after the job was queued: nothing leaves.
        stopped = await is_opted_out(db, phone, subject_id)
    if stopped:
        await skipped(job, "sms", template, subject_id, appointment_id=appointment_id)
        return
    try:
        receipt = await job.providers.sms.send(
            subject_id=subject_id,
            to=phone,
            body=body,
            about=about,
            idempotency_key=job.key,
            attempt=job.attempt,
            first_attempt_at=job.created_at,
        )
    except PermanentFailure as exc:
        if exc.code != PermanentFailure.OPTED_OUT:
            raise
        async with job.writing() as db:
            await opt_out(
                db, job.tenant, phone, "provider: unsubscribed", now=utcnow(), method=REPORT
            )
            await job.done(db)
            await db.commit()
        return
    built = await job.providers.built("sms")
    async with job.writing() as db:
        db.add(
            SentMessage(
                channel="sms",
                template=template,
                plugin=built.manifest.name,
                provider_ref=receipt.message_id,
                recipient_id=subject_id,
                appointment_id=appointment_id,
                job_id=job.id,
                status=receipt.status,
            )
        )
        await job.done(db)
        await db.commit()


@handles(EMAIL_TOPIC)
async def send_email(job: Job) -> None:
    template = str(job.payload["template"])
    async with job.reading() as db:
        if await _already_sent(db, job.id):
            return
        appointment = await _appointment(db, uuid.UUID(job.payload["appointment_id"]))
        if appointment is None or not _still_relevant(template, appointment):
            return
        if restricted(appointment.consumer):
            return  # restricted (Art. 18): checked again when the job runs, nothing sent
        refund = await _refund_words(db, job, appointment)
        subject, text = email_text(template, _facts(job, appointment, refund))
        attachments = _attachments(job, template, appointment)
        address, consumer_id = appointment.consumer.email, appointment.consumer_id
        if not address:
            return  # a patient record the front desk keeps without an email: none is sent
        wanted = await consents.allows(db, SERVICE_EMAIL, consents.Whose(consumer_id, address))
    if not wanted:  # withdrawn after the job was queued: it counts before the send
        await skipped(job, "email", template, consumer_id, appointment_id=appointment.id)
        return
    receipt = await job.providers.email.send(
        subject_id=consumer_id,
        to=address,
        subject=subject,
        text=text,
        about=ABOUT_APPOINTMENT,
        idempotency_key=job.key,
        attempt=job.attempt,
        reply_to=job.tenant.controller.dpo_contact,
        attachments=attachments,
    )
    built = await job.providers.built("email")
    async with job.writing() as db:
        db.add(
            SentMessage(
                channel="email",
                template=template,
                plugin=built.manifest.name,
                provider_ref=receipt.message_id,
                recipient_id=consumer_id,
                appointment_id=appointment.id,
                job_id=job.id,
                status="sent",
            )
        )
        await job.done(db)
        await db.commit()


# --- webhooks ------------------------------------------------------------------------------


@applies(SmsStatusUpdate)
async def apply_status(
    db: AsyncSession, tenant: TenantInfo, plugin: str, event: SmsStatusUpdate, now: datetime
) -> None:
    """A delivery report: note it; an unsubscribed recipient is opted out at once."""
    message = await db.scalar(
        select(SentMessage).where(
            SentMessage.plugin == plugin, SentMessage.provider_ref == event.message_id
        )
    )
    if message is None:
        return
    message.status = event.status
    message.error_code = event.error_code
    message.updated_at = utcnow()
    if event.opted_out and message.recipient_id is not None:
        phone = await db.scalar(select(User.phone).where(User.id == message.recipient_id))
        if phone:
            await opt_out(db, tenant, phone, "provider: unsubscribed", now=utcnow(), method=REPORT)


def keyword(body: str) -> str:
    """STOP counts as a message's first word (better one text too few than one too many);
    START and HELP only as the whole message, so "Yes, see you then" subscribes no one."""
    words = body.upper().split()
    if not words:
        return "other"
    if words[0].strip(".!,") in STOP_WORDS:
        return "stop"
    whole = " ".join(words).strip(".!, ")
    if whole in START_WORDS:
        return "start"
    if whole in HELP_WORDS:
        return "help"
    return "other"


@applies(SmsInbound)
async def apply_inbound(
    db: AsyncSession, tenant: TenantInfo, plugin: str, event: SmsInbound, now: datetime
) -> None:
    """STOP opts the number out before anything else can be sent; START back in; HELP answers."""
    word = keyword(event.body)
    inbound = InboundSms(id=uuid.uuid4(), phone=event.from_number, keyword=word, received_at=now)
    db.add(inbound)
    if word == "stop":
        await opt_out(db, tenant, event.from_number, "reply STOP", now=now)
    elif word == "start":
        await opt_in(db, tenant, event.from_number, now=now)
    elif word == "help":
        outbox.enqueue(
            db, tenant.id, SMS_TOPIC, {"template": "help", "inbound_id": str(inbound.id)}
        )


# --- reminders: an idempotent scan of database state ----------------------------------------


async def queue_reminders(db: AsyncSession, tenant: TenantInfo, *, now: datetime) -> int:
    """Confirmed appointments starting within the clinic's reminder window get one reminder."""
    hours = tenant.booking.reminder_hours_before
    if hours == 0:
        return 0
    window = timedelta(hours=hours)
    due = await db.scalars(
        select(Appointment).where(
            Appointment.status == AppointmentStatus.BOOKED.value,
            Appointment.reminder_queued_at.is_(None),
            Appointment.starts_at > now,
            Appointment.starts_at <= now + window,
        )
    )
    count = 0
    for appointment in due:
        appointment.reminder_queued_at = now
        confirmed = appointment.confirmed_at or appointment.created_at
        if confirmed < appointment.starts_at - window:  # a late booking's confirmation suffices
            queue_appointment_messages(db, tenant, appointment.id, "reminder")
            count += 1
    return count
