"""Erasure (P33): everything held about a consumer goes, except the billing records the clinic
must keep for tax (P30), which stay under a pseudonym.

The account row stays as a tombstone named by the pseudonym, so each payment (and the ledger,
which holds ids only) still refers to someone, but to no one identifiable. Future bookings are
cancelled (refunds by the clinic's policy), and every provider that holds data about the
person is asked to delete it through the facade, each call recorded like any other: video
rooms are deleted, an open checkout is expired by the cancellation, and the erasure is
announced (``PERSON_ERASED``) so that notifications asks for each text sent to them to be
erased at the SMS provider.
Retention deletes the tombstone, and the appointments under it, once no billing record is left.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger, outbox
from praxis.core.accounts.events import PERSON_ERASED
from praxis.core.accounts.models import Role, User
from praxis.core.booking.models import Appointment
from praxis.core.consents.models import ConsentRecord, ProxyAuthority
from praxis.core.errors import Conflict, NotAllowed
from praxis.core.intake.models import IntakeResponse
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.core.privacy import export, holds
from praxis.core.privacy.closing import cancel_future_bookings, close_account, closure_of
from praxis.core.privacy.models import AccountClosure
from praxis.core.providers.manifest import DataCategory
from praxis.core.video.models import VideoMeeting
from praxis.core.video.services import DELETE_TOPIC
from praxis.tenants.directory import TenantInfo

PSEUDONYM_PREFIX = "erased-"
ON_HOLD = (
    "The clinic must keep your records for now because of a legal obligation. Your account "
    "is closed, and your data will be erased as soon as that obligation ends."
)
# What an erasure removes, in the ledger's words (the content itself is never recorded).
ERASED = (
    DataCategory.NAME,
    DataCategory.EMAIL,
    DataCategory.PHONE,
    DataCategory.ADDRESS,
    DataCategory.HEALTH,
)


class OnHold(Conflict):
    """A legal hold keeps the records: the account is closed and erasure waits (Art. 17(3)(e))."""

    code = "legal_hold"

    def __init__(self) -> None:
        super().__init__(ON_HOLD)


@dataclass(frozen=True)
class Erased:
    pseudonym: str
    bookings_cancelled: int
    rooms_deleted: int
    answers_deleted: int
    messages_to_erase: int = 0  # at the providers that sent them


def is_erased(user: User) -> bool:
    return user.username.startswith(PSEUDONYM_PREFIX) and not user.is_active


def new_pseudonym() -> str:
    return f"{PSEUDONYM_PREFIX}{secrets.token_hex(6)}"


async def request_erasure(
    db: AsyncSession, tenant: TenantInfo, user: User, *, now: datetime, by: uuid.UUID | None
) -> Erased:
    """The consumer asked: close at once, then erase unless a legal hold stops it (OnHold,
    after committing the closure, so the request is not lost)."""
    if await holds.is_held(db, user.id):
        await close_account(db, tenant, user, now=now, by=by, erase_requested=True)
        await db.commit()
        raise OnHold()
    erased = await erase(db, tenant, user, now=now, actor_id=by)
    await db.commit()
    return erased


async def _delete_rooms(db: AsyncSession, tenant: TenantInfo, user_id: uuid.UUID) -> int:
    """Ask the video provider to delete every room still there (cancelled ones already are)."""
    query = (
        select(VideoMeeting.appointment_id)
        .join(Appointment, Appointment.id == VideoMeeting.appointment_id)
        .where(Appointment.consumer_id == user_id, VideoMeeting.deleted_at.is_(None))
    )
    rooms = list((await db.scalars(query)).all())
    for appointment_id in rooms:
        outbox.enqueue(db, tenant.id, DELETE_TOPIC, {"appointment_id": str(appointment_id)})
    return len(rooms)


def _scrub(user: User, pseudonym: str) -> None:
    """The tombstone: no name, contact, address or way to sign in; the pseudonym names it."""
    user.username = pseudonym
    user.full_name = f"Erased account {pseudonym.removeprefix(PSEUDONYM_PREFIX)}"
    user.email = ""
    user.phone = ""
    user.address_line1 = ""
    user.address_line2 = ""
    user.town = ""
    user.postcode = ""
    user.country = ""
    user.password_hash = "!"  # noqa: S105 - never a valid hash: no password matches it
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.is_active = False


async def erase(
    db: AsyncSession,
    tenant: TenantInfo,
    user: User,
    *,
    now: datetime,
    actor_id: uuid.UUID | None,
    reason: str = "at the consumer's request",
) -> Erased:
    """Erase one consumer (closing the account first if needed); the caller commits.

    Billing records are not touched: they refer to the account's id, whose row now carries
    only the pseudonym. The ledger records the erasure, never what was erased.
    """
    if user.role_enum is not Role.CONSUMER:
        raise NotAllowed("Only a consumer's account is erased here.")
    closure = await closure_of(db, user.id)
    if closure is not None and closure.erased_at is not None:
        return Erased(user.username, 0, 0, 0)
    cancelled = await cancel_future_bookings(db, tenant, user, now=now, tell=False)
    closure = await close_account(db, tenant, user, now=now, by=actor_id, erase_requested=True)
    rooms = await _delete_rooms(db, tenant, user.id)
    asked = await outbox.announce(db, tenant, PERSON_ERASED, now=now, subject_id=str(user.id))
    outbox.stage(db, asked)
    answers = await db.execute(delete(IntakeResponse).where(IntakeResponse.consumer_id == user.id))
    await export.forget(db, user.id)  # a data download holds everything: none outlives them
    # Nothing is done on their consents any more, and a record would keep their address.
    await db.execute(delete(ConsentRecord).where(ConsentRecord.subject_id == user.id))
    await db.execute(
        delete(ProxyAuthority).where(
            or_(ProxyAuthority.subject_id == user.id, ProxyAuthority.proxy_id == user.id)
        )
    )
    pseudonym = new_pseudonym()
    _scrub(user, pseudonym)
    closure.erased_at = now
    answers_deleted = int(answers.rowcount or 0)  # type: ignore[attr-defined]
    await ledger.append(
        db,
        Entry(
            kind=EventKind.RIGHTS_REQUEST,
            status=Status.RECORDED,
            recipient=tenant.name,
            recipient_kind=RecipientKind.OTHER,
            operation="erasure",
            categories=[c.value for c in ERASED],
            purpose="erase the person's data; billing records kept for tax under a pseudonym",
            legal_basis="right to erasure (UK GDPR Art. 17)",
            subject_id=user.id,
            actor_id=actor_id,
            reason=f"{reason}; {rooms} video rooms to delete, {len(asked)} messages asked to be "
            f"erased at providers, {answers_deleted} questionnaire answers deleted",
        ),
        now=now,
    )
    await db.flush()
    return Erased(pseudonym, cancelled, rooms, answers_deleted, len(asked))


async def erase_closed(
    db: AsyncSession, tenant: TenantInfo, closure: AccountClosure, *, now: datetime
) -> Erased | None:
    """Retention's erasure of an account closed long enough (or asked for while held)."""
    user = await db.scalar(select(User).where(User.id == closure.user_id))
    if user is None:
        return None
    return await erase(db, tenant, user, now=now, actor_id=None, reason="retention period ended")
