"""Marketing-only subscribers: people without an account who asked for the clinic's news by
email, by text or both (P17, P18). Their choices are consent records with an address and no
account; an address counts only once its owner opens the link sent to it (double opt-in, by
email and by text alike: anyone can type someone else's number). Six months after they stop
everything, retention deletes them (P28).
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Index, String, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core import outbox
from praxis.core.accounts.fields import Email, Phone, parse
from praxis.core.accounts.models import Role, User
from praxis.core.consents import services as consents
from praxis.core.consents.kinds import MARKETING, ConsentKind, Method
from praxis.core.consents.models import ConsentRecord
from praxis.core.crypto import Keyring
from praxis.core.db import Base, Identified, utcnow
from praxis.core.errors import InvalidInput
from praxis.core.outbox import Job, handles
from praxis.core.tenancy import TenantScoped
from praxis.tenants.directory import TenantInfo

CONFIRM_TOPIC = "subscribers.confirm"
CONFIRM_SMS_TOPIC = "subscribers.confirm_sms"
TOKENS = "subscriber"  # the keyring purpose of confirmation and unsubscribe links
CONFIRM_WITHIN = timedelta(days=7)  # a confirmation link older than this no longer works
KEEP_AFTER_OPT_OUT = 6  # months: the promise for marketing-only contacts
PENDING_DAYS = 30  # a sign-up never confirmed and with nothing given is kept no longer


class Subscriber(TenantScoped, Identified, Base):
    """Where a marketing-only contact is reached; whether they want it is in consent_records."""

    __tablename__ = "marketing_subscribers"
    __table_args__ = (Index(None, "tenant_id", "email"), Index(None, "tenant_id", "phone"))

    email: Mapped[str | None] = mapped_column(String(320), default=None)
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignUpForm(BaseModel):
    """The public form: an address for each channel ticked; each bad field its own message."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    email: Email | None = None
    phone: Phone | None = None
    by_email: bool = False
    by_sms: bool = False


def read_form(data: dict[str, str]) -> SignUpForm:
    """The sign-up, or InvalidInput naming each field to fix (nothing is stored)."""
    cleaned = {key: value for key, value in data.items() if value.strip()}
    cleaned["by_email"] = str(data.get("by_email") == "yes")
    cleaned["by_sms"] = str(data.get("by_sms") == "yes")
    form = parse(SignUpForm, cleaned)
    errors = {}
    if not form.by_email and not form.by_sms:
        errors["channels"] = "Choose email, text messages or both."
    if form.by_email and not form.email:
        errors["email"] = "Enter the email address for the news by email."
    if form.by_sms and not form.phone:
        errors["phone"] = "Enter the mobile number for the news by text."
    if errors:
        raise InvalidInput(errors)
    return form


@dataclass(frozen=True)
class SignedUp:
    email_to_confirm: bool  # a link is on its way; nothing is sent by email until it is used
    phone_to_confirm: bool  # a link is on its way by text; no news by text until it is used


async def _find(db: AsyncSession, form: SignUpForm) -> Subscriber | None:
    ways = []
    if form.email and form.by_email:
        ways.append(Subscriber.email == form.email)
    if form.phone and form.by_sms:
        ways.append(Subscriber.phone == form.phone)
    query = select(Subscriber).where(or_(*ways)).order_by(Subscriber.created_at).limit(1)
    found: Subscriber | None = await db.scalar(query)
    return found


async def sign_up(
    db: AsyncSession,
    tenant: TenantInfo,
    form: SignUpForm,
    *,
    notice_version: int | None,
    now: datetime | None = None,
) -> SignedUp:
    """Store the addresses asked for; each channel waits for the link sent to its address.
    Signing up again changes nothing but sends a fresh link."""
    now = now or utcnow()
    person = await _find(db, form)
    if person is None:
        person = Subscriber(id=uuid.uuid4(), created_at=now)
        db.add(person)
    if form.by_email and form.email and person.email != form.email:
        person.email, person.email_confirmed_at = form.email, None
    if form.by_sms and form.phone:
        person.phone = form.phone
    await db.flush()
    to_confirm = bool(form.by_email and form.email)
    if to_confirm and not await _given(db, MARKETING["email"], form.email):
        outbox.enqueue(db, tenant.id, CONFIRM_TOPIC, {"subscriber_id": str(person.id)})
    else:
        to_confirm = False
    phone_to_confirm = bool(form.by_sms and form.phone)
    if phone_to_confirm and not await _given(db, MARKETING["sms"], form.phone):
        outbox.enqueue(db, tenant.id, CONFIRM_SMS_TOPIC, {"subscriber_id": str(person.id)})
    else:
        phone_to_confirm = False
    return SignedUp(to_confirm, phone_to_confirm)


async def _given(db: AsyncSession, kind: ConsentKind, address: str | None) -> bool:
    if not address:
        return False
    return await consents.allows(db, kind, consents.Whose(address=address))


# --- the links: confirm an email address, unsubscribe -----------------------------------------


def token(keyring: Keyring, tenant_id: uuid.UUID, subscriber_id: uuid.UUID, use: str) -> str:
    """Sealed, so a link shows no address; bound to the clinic and to one use."""
    return keyring.seal(TOKENS, f"{tenant_id}|{subscriber_id}|{use}")


def read_token(
    keyring: Keyring, tenant_id: uuid.UUID, sealed: str, use: str, *, max_age: timedelta | None
) -> uuid.UUID | None:
    seconds = int(max_age.total_seconds()) if max_age is not None else None
    plain = keyring.unseal(TOKENS, sealed, max_age=seconds) if len(sealed) < 400 else None
    if plain is None:
        return None  # forged, expired, or not one of ours
    clinic, person, kind = [*plain.split("|"), "", ""][:3]
    if clinic != str(tenant_id) or kind != use:
        return None  # another clinic's link, or a link for something else
    try:
        return uuid.UUID(person)
    except ValueError:
        return None


async def _by_link(
    db: AsyncSession,
    tenant: TenantInfo,
    subscriber_id: uuid.UUID,
    channel: str,
    *,
    given: bool,
    method: Method,
    note: str,
    notice_version: int | None,
    now: datetime,
) -> Subscriber | None:
    """A link sent to the subscriber was used: record the choice for that channel's address.
    None (nothing recorded) if they are gone or hold no address there."""
    person = await db.get(Subscriber, (tenant.id, subscriber_id))
    address = (person.email if channel == "email" else person.phone) if person else None
    if person is None or not address:
        return None
    await consents.record(
        db,
        MARKETING[channel],
        consents.Whose(address=address),
        given=given,
        method=method,
        clinic=tenant.name,
        notice_version=notice_version,
        note=note,
        now=now,
    )
    return person


async def confirm(
    db: AsyncSession,
    tenant: TenantInfo,
    subscriber_id: uuid.UUID,
    *,
    notice_version: int | None,
    now: datetime | None = None,
) -> bool:
    """The link in the confirmation email was used: news by email starts."""
    now = now or utcnow()
    person = await _by_link(
        db,
        tenant,
        subscriber_id,
        "email",
        given=True,
        method=Method.EMAIL_LINK,
        note="confirmed the sign-up link",
        notice_version=notice_version,
        now=now,
    )
    if person is not None:
        person.email_confirmed_at = person.email_confirmed_at or now
    return person is not None


async def confirm_phone(
    db: AsyncSession,
    tenant: TenantInfo,
    subscriber_id: uuid.UUID,
    *,
    notice_version: int | None,
    now: datetime | None = None,
) -> bool:
    """The link in the confirmation text was used: news by text starts (STOP ends it)."""
    person = await _by_link(
        db,
        tenant,
        subscriber_id,
        "sms",
        given=True,
        method=Method.SMS_LINK,
        note="confirmed the sign-up link sent by text",
        notice_version=notice_version,
        now=now or utcnow(),
    )
    return person is not None


async def unsubscribe(
    db: AsyncSession,
    tenant: TenantInfo,
    subscriber_id: uuid.UUID,
    *,
    notice_version: int | None = None,
    now: datetime | None = None,
) -> bool:
    """The link in a marketing email: email stops; texts stay as they were."""
    person = await _by_link(
        db,
        tenant,
        subscriber_id,
        "email",
        given=False,
        method=Method.EMAIL_LINK,
        note="unsubscribe link",
        notice_version=notice_version,
        now=now or utcnow(),
    )
    return person is not None


async def _to_confirm(job: Job, channel: str, use: str) -> tuple[str, str] | None:
    """The address to send the confirmation link to, and the link; None if the subscriber is
    gone or no longer has an address on that channel."""
    subscriber_id = uuid.UUID(job.payload["subscriber_id"])
    async with job.reading() as db:
        person = await db.get(Subscriber, (job.tenant.id, subscriber_id))
    address = (person.email if channel == "email" else person.phone) if person else None
    if not address:
        return None
    sealed = token(job.keyring, job.tenant.id, subscriber_id, use)
    return address, f"{job.site_url}/news/confirm/{sealed}"


@handles(CONFIRM_TOPIC)
async def send_confirmation(job: Job) -> None:
    found = await _to_confirm(job, "email", "confirm")
    if found is None:
        return  # deleted, or the address changed to none since
    address, link = found
    text = (
        f"Someone asked for news and offers from {job.tenant.name} at this address.\n\n"
        f"To confirm, open this link within a week:\n{link}\n\n"
        "If it was not you, ignore this email: nothing more will be sent to you.\n"
    )
    await job.providers.email.send(
        subject_id=None,
        to=address,
        subject=f"Confirm your subscription to {job.tenant.name}",
        text=text,
        about=(),
        idempotency_key=job.key,
        attempt=job.attempt,
    )


@handles(CONFIRM_SMS_TOPIC)
async def send_sms_confirmation(job: Job) -> None:
    found = await _to_confirm(job, "sms", "confirm_sms")
    if found is None:
        return  # deleted, or the number changed to none since
    phone, link = found
    await job.providers.sms.send(
        subject_id=None,
        to=phone,
        body=f"{job.tenant.name}: to get our news and offers by text, open {link} within a "
        "week. Not you? Ignore this message.",
        about=(),
        idempotency_key=job.key,
        attempt=job.attempt,
    )


# --- who campaigns reach ----------------------------------------------------------------------


async def _account_addresses(db: AsyncSession, channel: str, *, reached: bool) -> set[str]:
    """Addresses an account holds: ``reached``, those campaigns reach as an open consumer
    account (counted there, once); otherwise any account's, whose records must stay."""
    column = User.phone if channel == "sms" else User.email
    query = select(column)
    if reached:
        query = query.where(User.role == Role.CONSUMER.value, User.is_active.is_(True))
    return {address for address in await db.scalars(query) if address}


async def _latest_by_address(
    db: AsyncSession, kind: ConsentKind
) -> dict[str, tuple[datetime, bool]]:
    rows = await db.execute(
        select(ConsentRecord.address, ConsentRecord.given, ConsentRecord.recorded_at)
        .where(
            ConsentRecord.purpose == kind.purpose,
            ConsentRecord.channel == kind.channel,
            ConsentRecord.scope_id.is_(None),
            ConsentRecord.address.is_not(None),
        )
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    latest: dict[str, tuple[datetime, bool]] = {}
    for address, given, at in rows:
        if address:
            latest[address] = (at, given)
    return latest


async def audience(db: AsyncSession, channel: str) -> list[uuid.UUID]:
    """Subscribers opted in on this channel now (email only once confirmed), leaving out
    those whose address an account holds (they are reached, once, as that account)."""
    kind = MARKETING[channel]
    column = Subscriber.phone if channel == "sms" else Subscriber.email
    latest = await _latest_by_address(db, kind)
    accounts = await _account_addresses(db, channel, reached=True)
    rows = await db.execute(select(Subscriber.id, column).order_by(Subscriber.created_at))
    return [
        person
        for person, address in rows
        if address and address not in accounts and latest.get(address, (None, False))[1]
    ]


async def reachable(db: AsyncSession, channel: str, subscriber_id: uuid.UUID) -> str | None:
    """The address to use now, asked again when the message is sent (None: not any more)."""
    person = await db.scalar(select(Subscriber).where(Subscriber.id == subscriber_id))
    if person is None:
        return None
    address = person.phone if channel == "sms" else person.email
    if not address or not await _given(db, MARKETING[channel], address):
        return None
    return address


# --- retention ---------------------------------------------------------------------------------


def _months_before(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def expired(db: AsyncSession, now: datetime) -> list[Subscriber]:
    """Subscribers who want nothing any more, since six months (or a never-confirmed sign-up
    older than ``PENDING_DAYS``): retention deletes them."""
    cutoff = _months_before(now, KEEP_AFTER_OPT_OUT)
    pending_cutoff = now - timedelta(days=PENDING_DAYS)
    latest = {channel: await _latest_by_address(db, kind) for channel, kind in MARKETING.items()}
    found = []
    for person in (await db.scalars(select(Subscriber).order_by(Subscriber.created_at))).all():
        states = []
        for channel, address in (("email", person.email), ("sms", person.phone)):
            if address and address in latest[channel]:
                states.append(latest[channel][address])
        if any(given for _, given in states):
            continue
        if states:
            last = max(_aware(at) for at, _ in states)
            if last <= cutoff:
                found.append(person)
        elif _aware(person.created_at) <= pending_cutoff:
            found.append(person)
    return found


async def delete_all(db: AsyncSession, people: list[Subscriber]) -> None:
    """Delete the subscribers and the consent records of their addresses that name no account,
    keeping any an account relies on (a STOP from a number an account holds stays in force)."""
    if not people:
        return
    emails = {p.email for p in people if p.email}
    emails -= await _account_addresses(db, "email", reached=False)
    phones = {p.phone for p in people if p.phone}
    phones -= await _account_addresses(db, "sms", reached=False)
    addresses = emails | phones
    if addresses:
        await db.execute(
            # A STOP also withdrew appointment texts from the number: no account holds it, so
            # that record goes too (someone registering it later decides afresh).
            delete(ConsentRecord).where(
                ConsentRecord.subject_id.is_(None), ConsentRecord.address.in_(addresses)
            )
        )
    await db.execute(delete(Subscriber).where(Subscriber.id.in_([p.id for p in people])))
