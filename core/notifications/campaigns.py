"""Marketing campaigns (P17, P18): a clinic admin writes one message for one channel; it goes,
one outbox job per person, only to those opted in on that channel, each job asking again when
it runs. Every email carries an unsubscribe link and RFC 8058 headers; every text says STOP.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, Text, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core import outbox
from praxis.core.accounts import restriction
from praxis.core.accounts.fields import Line, parse
from praxis.core.accounts.fields import Text as Words
from praxis.core.accounts.models import Role, User
from praxis.core.consents import services as consents
from praxis.core.consents import subscribers
from praxis.core.consents.kinds import LEGAL_BASIS, MARKETING, ConsentKind, Method
from praxis.core.crypto import Keyring
from praxis.core.db import Base, Identified, utcnow
from praxis.core.errors import InvalidInput
from praxis.core.notifications.models import SentMessage
from praxis.core.notifications.services import opt_out
from praxis.core.outbox import Job, handles
from praxis.core.providers.common import PermanentFailure
from praxis.core.providers.email import EmailInbound
from praxis.core.tenancy import TenantScoped
from praxis.core.webhooks import applies
from praxis.tenants.directory import TenantInfo

TOPIC = "marketing.send"
TEMPLATE = "campaign"  # sent_messages.template of a campaign's messages
UNSUBSCRIBE = "unsubscribe"  # the keyring purpose of unsubscribe tokens
SMS_OPT_OUT = "Reply STOP to opt out."
SMS_LIMIT = 300  # two text messages, with the clinic's name and the STOP line
Channel = Literal["sms", "email"]

# Who else must not get marketing although opted in (restricted records, objections): each
# takes the candidates and returns those to leave out. Rights modules register here.
Exclusion = Callable[[AsyncSession, set[uuid.UUID]], Awaitable[set[uuid.UUID]]]
EXCLUSIONS: list[Exclusion] = []


def excludes(rule: Exclusion) -> Exclusion:
    EXCLUSIONS.append(rule)
    return rule


@excludes
async def _restricted(db: AsyncSession, candidates: set[uuid.UUID]) -> set[uuid.UUID]:
    """A restricted record is left out of marketing (P34), whatever its consents say."""
    return candidates & await restriction.restricted_ids(db)


class Campaign(TenantScoped, Identified, Base):
    """One message a clinic sent as marketing, on one channel, and to how many."""

    __tablename__ = "marketing_campaigns"

    channel: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(150), default="")  # email only
    body: Mapped[str] = mapped_column(Text)
    audience: Mapped[int]
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignForm(BaseModel):
    """What the admin writes; each bad field gets its own message."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    channel: Channel
    subject: Line = Field("", max_length=150)
    message: Words = Field(min_length=3, max_length=2000)


def read_form(data: Mapping[str, str]) -> CampaignForm:
    """The admin's campaign, or InvalidInput naming each field to fix (nothing is sent)."""
    form = parse(CampaignForm, data)
    if form.channel == "email" and not form.subject:
        raise InvalidInput({"subject": "An email needs a subject."})
    if form.channel == "sms" and len(form.message) > SMS_LIMIT:
        raise InvalidInput({"message": f"Keep a text message to {SMS_LIMIT} characters."})
    return form


@dataclass(frozen=True)
class Preview:
    subject: str
    text: str
    audience: int


async def audience(db: AsyncSession, channel: Channel) -> list[uuid.UUID]:
    """Consumers opted in on this channel and not left out by any exclusion, right now."""
    kind = MARKETING[channel]
    address = User.phone if channel == "sms" else User.email
    rows = await db.execute(
        select(User.id, address)
        .where(User.role == Role.CONSUMER.value, User.is_active.is_(True))
        .order_by(User.created_at, User.id)
    )
    chosen = await consents.given_by(db, kind, [(i, a) for i, a in rows])
    left_out: set[uuid.UUID] = set()
    for rule in EXCLUSIONS:
        left_out |= await rule(db, set(chosen))
    return [person for person in chosen if person not in left_out]


async def reach(db: AsyncSession, channel: Channel) -> int:
    """How many a campaign on this channel reaches now: accounts and subscribers without one."""
    return len(await audience(db, channel)) + len(await subscribers.audience(db, channel))


async def counts(db: AsyncSession) -> dict[str, int]:
    channels: tuple[Channel, ...] = ("email", "sms")
    return {channel: await reach(db, channel) for channel in channels}


def unsubscribe_token(keyring: Keyring, tenant_id: uuid.UUID, person: uuid.UUID) -> str:
    """Sealed, so the link shows no one's id; bound to the clinic and to email."""
    return keyring.seal(UNSUBSCRIBE, f"{tenant_id}|{person}|email")


def read_token(keyring: Keyring, tenant_id: uuid.UUID, token: str) -> uuid.UUID | None:
    plain = keyring.unseal(UNSUBSCRIBE, token) if len(token) < 400 else None
    if plain is None:
        return None
    clinic, person, channel = [*plain.split("|"), "", ""][:3]
    if clinic != str(tenant_id) or channel != "email":
        return None  # another clinic's link opts no one out here
    return uuid.UUID(person)


def unsubscribe_link(site_url: str, token: str) -> str:
    return f"{site_url}/unsubscribe/{token}"


def compose(tenant: TenantInfo, channel: Channel, subject: str, body: str, link: str) -> Preview:
    """The words a person receives: the clinic's message and how to stop the next one."""
    if channel == "sms":
        return Preview("", f"{tenant.name}: {body} {SMS_OPT_OUT}", 0)
    footer = (
        f"\n\n--\n{tenant.name}\nYou receive this because you agreed to news and offers by "
        f"email from {tenant.name}.\nUnsubscribe with one click: {link}\n"
    )
    return Preview(subject, body + footer, 0)


async def preview(db: AsyncSession, tenant: TenantInfo, form: CampaignForm) -> Preview:
    shown = compose(tenant, form.channel, form.subject, form.message, "(your unsubscribe link)")
    return Preview(shown.subject, shown.text, await reach(db, form.channel))


async def send(db: AsyncSession, tenant: TenantInfo, form: CampaignForm, *, actor: User) -> int:
    """Record the campaign and queue one job per person (ids only); how many were queued."""
    people = await audience(db, form.channel)
    others = await subscribers.audience(db, form.channel)
    campaign = Campaign(
        id=uuid.uuid4(),
        channel=form.channel,
        subject=form.subject if form.channel == "email" else "",
        body=form.message,
        audience=len(people) + len(others),
        created_by=actor.id,
    )
    db.add(campaign)
    outbox.stage(
        db,
        [
            outbox.job_row(
                tenant.id, TOPIC, {"campaign_id": str(campaign.id), "consumer_id": str(person)}
            )
            for person in people
        ]
        + [
            outbox.job_row(
                tenant.id, TOPIC, {"campaign_id": str(campaign.id), "subscriber_id": str(person)}
            )
            for person in others
        ],
    )
    return len(people) + len(others)


async def past(db: AsyncSession) -> list[Campaign]:
    return list(await db.scalars(select(Campaign).order_by(Campaign.created_at.desc()).limit(50)))


async def unsubscribe(
    db: AsyncSession,
    tenant: TenantInfo,
    person_id: uuid.UUID,
    *,
    notice_version: int | None = None,
) -> bool:
    """The link in a marketing email: that channel stops, the other stays as it was."""
    person = await db.get(User, (tenant.id, person_id))
    if person is None:
        return False
    kind = MARKETING["email"]
    await consents.record(
        db,
        kind,
        consents.Whose(person.id),
        given=False,
        method=Method.EMAIL_LINK,
        clinic=tenant.name,
        actor_id=person.id,
        notice_version=notice_version,
        note="unsubscribe link",
    )
    return True


# --- an email to the clinic headed "Unsubscribe" ---------------------------------------------


def asks_to_unsubscribe(subject: str) -> bool:
    """The subject is the request ("Unsubscribe", "unsubscribe please", "Re: Unsubscribe")."""
    words = subject.lower().replace(":", " ").split()
    while words and words[0] in ("re", "fw", "fwd", "aw"):
        words = words[1:]
    return bool(words) and words[0].strip(".!,") == "unsubscribe"


@applies(EmailInbound)
async def apply_inbound_email(
    db: AsyncSession, tenant: TenantInfo, plugin: str, event: EmailInbound, now: datetime
) -> None:
    """The sender's address stops getting marketing email; nothing of the mail is kept."""
    if not asks_to_unsubscribe(event.subject):
        return
    address = event.from_address.strip().lower()
    staff_last = case((User.role == Role.CONSUMER.value, 0), else_=1)
    found = (
        await db.execute(
            select(User.id, User.email)
            .where(func.lower(User.email) == address)
            .order_by(staff_last, User.created_at)
            .limit(1)
        )
    ).first()
    person, stored = (found[0], found[1]) if found else (None, address)
    await consents.record(
        db,
        MARKETING["email"],
        consents.Whose(person, stored),
        given=False,
        method=Method.EMAIL_REPLY,
        clinic=tenant.name,
        actor_id=person,
        note="email headed Unsubscribe",
        now=now,
    )


# --- the outbox job: one message to one person, consent asked again when it runs -------------


async def _still_wanted(db: AsyncSession, kind: ConsentKind, person: User) -> bool:
    address = person.phone if kind.channel == "sms" else person.email
    if not person.is_active or not address:
        return False
    if not await consents.allows(db, kind, consents.Whose(person.id, address)):
        return False
    for rule in EXCLUSIONS:
        if person.id in await rule(db, {person.id}):
            return False
    return True


def _why(kind: ConsentKind) -> tuple[str, str]:
    """What the ledger says a marketing message was for: not the processor's usual purpose."""
    return (kind.ledger_purpose, LEGAL_BASIS[kind.purpose])


def _record_sent(
    db: AsyncSession,
    job: Job,
    channel: str,
    plugin: str,
    ref: str,
    person: uuid.UUID | None,
    status: str,
) -> None:
    db.add(
        SentMessage(
            channel=channel,
            template=TEMPLATE,
            plugin=plugin,
            provider_ref=ref,
            recipient_id=person,
            job_id=job.id,
            status=status,
            error_code="no_consent" if status == "skipped" else None,
        )
    )


async def _deliver(
    job: Job,
    campaign: Campaign,
    channel: Channel,
    to: str,
    subject_id: uuid.UUID | None,
    link: str,
) -> str | None:
    """Send one campaign message; the provider's id, or None when the network says the number
    unsubscribed (recorded as an opt-out, the job done)."""
    why = _why(MARKETING[channel])
    if channel == "sms":
        words = compose(job.tenant, "sms", "", campaign.body, "")
        try:
            receipt = await job.providers.sms.send(
                subject_id=subject_id,
                to=to,
                body=words.text,
                about=(),
                idempotency_key=job.key,
                attempt=job.attempt,
                first_attempt_at=job.created_at,
                purpose=why,
            )
        except PermanentFailure as exc:
            if exc.code != PermanentFailure.OPTED_OUT:
                raise
            async with job.writing() as db:
                await opt_out(
                    db,
                    job.tenant,
                    to,
                    "provider: unsubscribed",
                    now=utcnow(),
                    method=Method.PROVIDER_REPORT,
                )
                await job.done(db)
                await db.commit()
            return None
        return receipt.message_id
    words = compose(job.tenant, "email", campaign.subject, campaign.body, link)
    sent = await job.providers.email.send(
        subject_id=subject_id,
        to=to,
        subject=words.subject,
        text=words.text,
        about=(),
        idempotency_key=job.key,
        attempt=job.attempt,
        reply_to=job.tenant.controller.dpo_contact,
        headers=(
            ("List-Unsubscribe", f"<{link}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ),
        purpose=why,
    )
    return sent.message_id


@handles(TOPIC)
async def send_one(job: Job) -> None:
    if "subscriber_id" in job.payload:
        await _send_to_subscriber(job)
        return
    person_id = uuid.UUID(job.payload["consumer_id"])
    async with job.reading() as db:
        if await db.scalar(select(SentMessage.id).where(SentMessage.job_id == job.id)):
            return
        campaign = await db.get(Campaign, (job.tenant.id, uuid.UUID(job.payload["campaign_id"])))
        person = await db.get(User, (job.tenant.id, person_id))
        if campaign is None or person is None:
            return
        channel: Channel = "email" if campaign.channel == "email" else "sms"
        wanted = await _still_wanted(db, MARKETING[channel], person)
        to = person.email if channel == "email" else person.phone
    if not wanted:  # opted out, restricted or objecting since the campaign was queued
        async with job.writing() as db:
            _record_sent(db, job, channel, "", "", person_id, "skipped")
            await job.done(db)
            await db.commit()
        return
    link = unsubscribe_link(job.site_url, unsubscribe_token(job.keyring, job.tenant.id, person_id))
    receipt_id = await _deliver(job, campaign, channel, to, person_id, link)
    if receipt_id is None:
        return
    built = await job.providers.built(channel)
    async with job.writing() as db:
        _record_sent(db, job, channel, built.manifest.name, receipt_id, person_id, "sent")
        await job.done(db)
        await db.commit()


async def _send_to_subscriber(job: Job) -> None:
    """The same message to a subscriber without an account, consent asked again now."""
    subscriber_id = uuid.UUID(job.payload["subscriber_id"])
    async with job.reading() as db:
        if await db.scalar(select(SentMessage.id).where(SentMessage.job_id == job.id)):
            return
        campaign = await db.get(Campaign, (job.tenant.id, uuid.UUID(job.payload["campaign_id"])))
        if campaign is None:
            return
        channel: Channel = "email" if campaign.channel == "email" else "sms"
        address = await subscribers.reachable(db, channel, subscriber_id)
    if address is None:  # unsubscribed, STOP or deleted since the campaign was queued
        async with job.writing() as db:
            _record_sent(db, job, channel, "", "", None, "skipped")
            await job.done(db)
            await db.commit()
        return
    sealed = subscribers.token(job.keyring, job.tenant.id, subscriber_id, UNSUBSCRIBE)
    link = unsubscribe_link(job.site_url, sealed)
    receipt_id = await _deliver(job, campaign, channel, address, None, link)
    if receipt_id is None:
        return
    built = await job.providers.built(channel)
    async with job.writing() as db:
        _record_sent(db, job, channel, built.manifest.name, receipt_id, None, "sent")
        await job.done(db)
        await db.commit()
