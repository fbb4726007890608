"""The right to correction (P32, UK GDPR Art. 16 and 19): a consumer corrects their own
details in the portal; the ledger records which fields changed (never the values); a changed
email address is told at the old one; staff see which recipients had the old data.

Changing the email address or phone number asks for the password again: they are how the
account is reached and recovered, so a borrowed, signed-in browser must not change them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger, outbox
from praxis.core.accounts import alerts, consumers
from praxis.core.accounts.fields import AsTyped, parse
from praxis.core.accounts.forms import PersonDetails
from praxis.core.accounts.models import Role, User
from praxis.core.accounts.passwords import Passwords
from praxis.core.errors import InvalidInput
from praxis.core.ledger import Entry, EventKind, LedgerEvent, RecipientKind, Status
from praxis.core.outbox import Job, handles
from praxis.core.providers.manifest import DataCategory
from praxis.core.tenancy import session_tenant
from praxis.tenants.directory import TenantInfo

RECTIFICATION = "rectification"  # the ledger operation of every correction
TOPIC = "privacy.email_changed"
SEALED = "old-email-address"  # the keyring purpose sealing the old address in the job
PURPOSE = "keep personal data accurate (UK GDPR Art. 16)"
BASIS = "legal obligation (UK GDPR Art. 6(1)(c))"
# Which category of the ledger each field of the form belongs to.
FIELD_CATEGORIES = {
    "full_name": DataCategory.NAME,
    "email": DataCategory.EMAIL,
    "phone": DataCategory.PHONE,
    "address_line1": DataCategory.ADDRESS,
    "address_line2": DataCategory.ADDRESS,
    "town": DataCategory.ADDRESS,
    "postcode": DataCategory.ADDRESS,
}
GUARDED = ("email", "phone")  # the fields that need the password again
PORTAL = "corrected in the portal"
# How a request staff carry out reached the clinic (UK GDPR: a request needs no set form).
RECEIVED_BY = {"email": "by email", "post": "by post", "in_person": "in person"}
PASSWORD_NEEDED = "Enter your current password to change your email address or phone number."  # noqa: S105 (a message, not a password)


class Correction(PersonDetails):
    """The details a consumer may correct, and the password when a guarded one changes."""

    current_password: AsTyped = Field("", max_length=200)


class WrittenRequest(BaseModel):
    """What staff add when they carry out a correction the person asked for in writing."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    consumer: str = Field(min_length=1, max_length=32)  # their username
    received_by: Literal["email", "post", "in_person"]


async def consumer_details(db: AsyncSession, username: str) -> dict[str, str] | None:
    """A consumer's current details by username, as the correction form shows them."""
    found = await consumers.consumer_id(db, username)
    user = await db.get(User, (session_tenant(db.sync_session), found)) if found else None
    if user is None:
        return None
    return {name: str(getattr(user, name) or "") for name in FIELD_CATEGORIES}


async def correct_on_request(
    db: AsyncSession,
    tenant: TenantInfo,
    staff: User,
    data: Mapping[str, Any],
    *,
    passwords: Passwords,
    keyring: Any,
    region: str = "GB",
) -> tuple[User, Corrected]:
    """Staff carry out a written request for correction (P32): recorded as theirs."""
    request = parse(WrittenRequest, data, region=region)
    found = await consumers.consumer_id(db, request.consumer)
    user = await db.get(User, (tenant.id, found)) if found else None
    if user is None:
        raise InvalidInput({"consumer": "There is no consumer with that username here."})
    done = await correct(
        db,
        tenant,
        user,
        data,
        passwords=passwords,
        keyring=keyring,
        region=region,
        actor=staff,
        received_by=request.received_by,
    )
    return user, done


class CorrectionPatch(BaseModel):
    """A partial correction (the API's PATCH /me): fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    full_name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    address_line1: str | None = Field(None, max_length=200)
    address_line2: str | None = Field(None, max_length=200)
    town: str | None = Field(None, max_length=100)
    postcode: str | None = Field(None, max_length=16)
    current_password: str | None = Field(
        None, max_length=200, description="Needed to change email or phone"
    )

    def over(self, user: User) -> dict[str, str]:
        """The whole set of details: the user's, with this patch's fields on top."""
        merged = {name: str(getattr(user, name) or "") for name in FIELD_CATEGORIES}
        merged.update(self.model_dump(exclude_none=True))
        return merged


@dataclass(frozen=True)
class Corrected:
    fields: list[str]  # the form's fields that changed
    categories: list[str]  # their ledger categories
    seq: int | None  # the ledger entry, if anything changed


def _changes(user: User, form: Correction) -> list[str]:
    return [name for name in FIELD_CATEGORIES if getattr(user, name) != getattr(form, name)]


async def correct(
    db: AsyncSession,
    tenant: TenantInfo,
    user: User,
    data: Mapping[str, Any],
    *,
    passwords: Passwords,
    keyring: Any,
    region: str = "GB",
    actor: User | None = None,
    received_by: str | None = None,
    proxy: bool = False,
) -> Corrected:
    """Apply a correction in the caller's transaction, or raise InvalidInput changing nothing.

    With ``received_by`` staff carry out a request the person made in writing (the staff
    checked who asked, so no password is asked for); ``actor`` is then that staff member.
    With ``proxy`` the ``actor`` is a parent or carer acting for the person (P26): their own
    password guards the email address and phone number, and the ledger names them.
    """
    form = parse(Correction, data, region=region)
    changed = _changes(user, form)
    if not changed:
        return Corrected([], [], None)
    guarded = any(name in changed for name in GUARDED)
    signer = actor if proxy and actor is not None else user  # whose password is asked for
    if (
        received_by is None
        and guarded
        and not passwords.verify(signer.password_hash, form.current_password)
    ):
        raise InvalidInput({"current_password": PASSWORD_NEEDED})
    if received_by:
        how = f"corrected by staff on a request received {RECEIVED_BY[received_by]}"
    elif proxy:
        how = "corrected in the portal on the person's behalf by someone acting for them"
    else:
        how = PORTAL
    old_email = user.email
    for name in changed:
        setattr(user, name, getattr(form, name))
    categories = sorted({FIELD_CATEGORIES[name].value for name in changed})
    appended = await ledger.append(
        db,
        Entry(
            kind=EventKind.RIGHTS_REQUEST,
            status=Status.RECORDED,
            recipient=tenant.controller.legal_name or tenant.name,
            recipient_kind=RecipientKind.OTHER,
            operation=RECTIFICATION,
            categories=categories,
            purpose=PURPOSE,
            legal_basis=BASIS,
            subject_id=user.id,
            actor_id=(actor or user).id,
            reason=f"{how}: " + ", ".join(changed),  # field names, never values
        ),
    )
    if "email" in changed and tenant.providers.get("email"):
        # The old address is told, so a takeover of the account cannot go unnoticed.
        sealed = keyring.seal(SEALED, old_email)
        outbox.enqueue(db, tenant.id, TOPIC, {"user_id": str(user.id), "old_email": sealed})
    if "phone" in changed:  # as for the email: a takeover that moves the texts is noticed
        alerts.tell(db, tenant.id, user, alerts.Change.PHONE_CHANGED)
    return Corrected(changed, categories, appended.seq)


@handles(TOPIC)
async def tell_old_address(job: Job) -> None:
    user_id = uuid.UUID(job.payload["user_id"])
    old_email = job.keyring.unseal(SEALED, job.payload["old_email"])
    if old_email is None:
        return  # sealed with a secret key since replaced: nothing can be sent
    contact = job.tenant.controller.dpo_contact
    text = (
        f"The email address of your {job.tenant.name} account was changed. From now on, "
        "messages about your account go to the new address.\n\n"
        "If you did not make this change, contact the clinic at once"
        + (f": {contact}" if contact else ".")
        + "\n"
    )
    await job.providers.email.send(
        subject_id=user_id,
        to=old_email,
        subject="Your email address was changed",
        text=text,
        about=(),
        idempotency_key=job.key,
        attempt=job.attempt,
    )


@dataclass
class Recipient:
    """Someone who received a corrected category before the correction (Art. 19)."""

    name: str
    kind: str
    categories: set[str] = field(default_factory=set)
    last_at: datetime | None = None


@dataclass(frozen=True)
class CorrectionRecord:
    seq: int
    at: datetime
    subject_id: uuid.UUID | None
    username: str
    categories: list[str]
    how: str  # in the portal, or by staff on a written request
    fields: str
    recipients: list[Recipient]


async def _recipients_before(
    db: AsyncSession, subject_id: uuid.UUID, seq: int, categories: set[str]
) -> list[Recipient]:
    """Disclosures of the subject's corrected categories before ``seq``, one per recipient."""
    query = (
        select(LedgerEvent)
        .where(
            LedgerEvent.subject_id == subject_id,
            LedgerEvent.kind == EventKind.DISCLOSURE.value,
            LedgerEvent.attempt_seq.is_(None),  # the attempt names what was sent
            LedgerEvent.seq < seq,
        )
        .order_by(LedgerEvent.seq)
    )
    found: dict[tuple[str, str], Recipient] = {}
    for event in (await db.scalars(query)).all():
        overlap = categories & set(event.category_list)
        if not overlap:
            continue
        who = found.setdefault(
            (event.recipient, event.recipient_kind),
            Recipient(event.recipient, event.recipient_kind),
        )
        who.categories |= overlap
        who.last_at = event.recorded_at
    return list(found.values())


async def corrections(
    db: AsyncSession, *, subject_id: uuid.UUID | None = None, limit: int = 50
) -> list[CorrectionRecord]:
    """Recent corrections, newest first, each with the recipients to tell (Art. 19)."""
    query = select(LedgerEvent).where(
        LedgerEvent.kind == EventKind.RIGHTS_REQUEST.value,
        LedgerEvent.operation == RECTIFICATION,
    )
    if subject_id is not None:
        query = query.where(LedgerEvent.subject_id == subject_id)
    events = list((await db.scalars(query.order_by(LedgerEvent.seq.desc()).limit(limit))).all())
    ids = {e.subject_id for e in events if e.subject_id}
    names = {}
    if ids:
        rows = await db.execute(
            select(User.id, User.username).where(User.id.in_(ids), User.role == Role.CONSUMER.value)
        )
        names = {row.id: row.username for row in rows}
    records = []
    for event in events:
        recipients = []
        if event.subject_id is not None:
            recipients = await _recipients_before(
                db, event.subject_id, event.seq, set(event.category_list)
            )
        records.append(
            CorrectionRecord(
                seq=event.seq,
                at=event.recorded_at,
                subject_id=event.subject_id,
                username=names.get(event.subject_id, "") if event.subject_id else "",
                categories=event.category_list,
                how=event.reason.rsplit(": ", 1)[0],
                fields=event.reason.rsplit(": ", 1)[-1],
                recipients=recipients,
            )
        )
    return records
