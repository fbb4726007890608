"""Rights requests made in writing (email, post) or in person, logged by staff (P34, P32).

Each is answered within one calendar month of receipt; a complex one may be extended once, by
two further months, with a reason the person is told (UK GDPR Art. 12(3)). The queue shows
the deadlines; a week before each is due the admin dashboard warns and every clinic admin is
emailed once (no name or detail in the email: only the kind and the date); the consumer sees
the status under Account.
Logging, extending and closing each go in the ledger (what kind, never what was asked).
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger, outbox
from praxis.core.accounts import consumers
from praxis.core.accounts.fields import Line, parse
from praxis.core.accounts.models import Role, User
from praxis.core.errors import Conflict, InvalidInput, NotFound
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.core.outbox import Job, handles
from praxis.core.privacy.models import WrittenRequest
from praxis.tenants.directory import TenantInfo

REMIND_BEFORE = timedelta(days=7)
REMINDER_TOPIC = "privacy.request_reminder"
KINDS = {
    "access": "Access: a copy of their data",
    "rectification": "Correction of their data",
    "erasure": "Erasure of their data",
    "restriction": "Restriction of processing",
    "objection": "Objection to processing",
    "portability": "Portability: their data to take elsewhere",
}
CHANNELS = {"email": "Email", "post": "Post", "in_person": "In person", "phone": "Phone"}
OUTCOMES = {"done": "Done", "refused": "Refused, with the reason given to them"}
BASIS = "the person's rights (UK GDPR Art. 12 to 22)"


def months_after(day: date, months: int) -> date:
    """The same day ``months`` calendar months on, or that month's last day (31 Jan -> 28 Feb),
    as the ICO counts a month for a request."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class RequestForm(BaseModel):
    """What staff type when a request arrives outside the portal."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    kind: Literal["access", "rectification", "erasure", "restriction", "objection", "portability"]
    channel: Literal["email", "post", "in_person", "phone"]
    consumer: str = Field("", max_length=32)  # a username; empty if they hold no account
    identity_check: Line = Field(min_length=3, max_length=300)
    received_on: date

    @field_validator("received_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("The date it arrived cannot be in the future.")
        return value


@dataclass(frozen=True)
class Queued:
    request: WrittenRequest
    username: str | None
    overdue: bool
    due_soon: bool  # within a week: staff are reminded

    @property
    def kind_words(self) -> str:
        return KINDS.get(self.request.kind, self.request.kind)


async def _entry(
    db: AsyncSession, request: WrittenRequest, operation: str, reason: str, actor: uuid.UUID
) -> None:
    await ledger.append(
        db,
        Entry(
            kind=EventKind.RIGHTS_REQUEST,
            status=Status.RECORDED,
            recipient="clinic staff",
            recipient_kind=RecipientKind.OTHER,
            operation=operation,
            categories=[],
            purpose=f"a written {request.kind} request",
            legal_basis=BASIS,
            subject_id=request.subject_id,
            actor_id=actor,
            correlation_id=str(request.id),
            reason=reason,
        ),
    )


async def log(
    db: AsyncSession, form: dict[str, str], *, actor: uuid.UUID, now: datetime
) -> WrittenRequest:
    """Log a request as it arrived; its deadline is one month after receipt."""
    parsed = parse(RequestForm, form)
    subject_id = None
    if parsed.consumer:
        subject_id = await consumers.consumer_id(db, parsed.consumer)
        if subject_id is None:
            raise InvalidInput({"consumer": "There is no consumer with that username here."})
    request = WrittenRequest(
        id=uuid.uuid4(),
        subject_id=subject_id,
        kind=parsed.kind,
        channel=parsed.channel,
        identity_check=parsed.identity_check,
        received_on=parsed.received_on,
        due_on=months_after(parsed.received_on, 1),
        logged_by=actor,
        logged_at=now,
    )
    db.add(request)
    await db.flush()
    await _entry(db, request, "written_request", f"received by {parsed.channel}", actor)
    return request


async def _open(db: AsyncSession, request_id: uuid.UUID) -> WrittenRequest:
    found = await db.scalar(select(WrittenRequest).where(WrittenRequest.id == request_id))
    if found is None:
        raise NotFound("We could not find that request.")
    if found.closed_at is not None:
        raise Conflict("This request is already closed.")
    return found


async def extend(
    db: AsyncSession, request_id: uuid.UUID, reason: str, *, actor: uuid.UUID
) -> WrittenRequest:
    """Two further months, once, for a complex or repeated request; the reason is kept."""
    request = await _open(db, request_id)
    reason = " ".join(reason.split())
    if not 10 <= len(reason) <= 300:
        raise InvalidInput({"reason": "Say why the request needs longer (10 to 300 characters)."})
    if request.extension_reason:
        raise Conflict("This request was extended already: three months is the most allowed.")
    request.due_on = months_after(request.received_on, 3)
    request.extension_reason = reason
    await _entry(db, request, "written_request_extended", "extended by two months", actor)
    return request


async def close(
    db: AsyncSession,
    request_id: uuid.UUID,
    outcome: str,
    note: str,
    *,
    actor: uuid.UUID,
    now: datetime,
) -> WrittenRequest:
    request = await _open(db, request_id)
    note = " ".join(note.split())
    errors = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = "Choose whether the request was done or refused."
    if outcome == "refused" and len(note) < 10:
        errors["note"] = "Say why it was refused, as you told the person (10 characters or more)."
    if len(note) > 300:
        errors["note"] = "Keep the note to 300 characters."
    if errors:
        raise InvalidInput(errors)
    request.outcome, request.outcome_note = outcome, note
    request.closed_at, request.closed_by = now, actor
    await _entry(db, request, "written_request_closed", outcome, actor)
    return request


async def queue(db: AsyncSession, today: date) -> list[Queued]:
    """Open requests, the nearest deadline first."""
    query = (
        select(WrittenRequest)
        .where(WrittenRequest.closed_at.is_(None))
        .order_by(WrittenRequest.due_on, WrittenRequest.received_on)
    )
    requests = list((await db.scalars(query)).all())
    names = await consumers.usernames(db, {r.subject_id for r in requests if r.subject_id})
    return [
        Queued(
            r,
            names.get(r.subject_id) if r.subject_id else None,
            overdue=r.due_on < today,
            due_soon=today <= r.due_on <= today + REMIND_BEFORE,
        )
        for r in requests
    ]


async def closed_recently(db: AsyncSession, limit: int = 20) -> list[WrittenRequest]:
    query = (
        select(WrittenRequest)
        .where(WrittenRequest.closed_at.is_not(None))
        .order_by(WrittenRequest.closed_at.desc())
        .limit(limit)
    )
    return list((await db.scalars(query)).all())


async def of_person(db: AsyncSession, user_id: uuid.UUID) -> list[WrittenRequest]:
    """What the consumer sees under Account: each request, its deadline and outcome."""
    query = (
        select(WrittenRequest)
        .where(WrittenRequest.subject_id == user_id)
        .order_by(WrittenRequest.received_on.desc())
    )
    return list((await db.scalars(query)).all())


async def queue_reminders(db: AsyncSession, tenant: TenantInfo, today: date) -> int:
    """Once per deadline, a week before it (or at once if it is nearer): an email job to the
    clinic's admins. The caller commits. Returns how many requests were reminded of."""
    if not tenant.providers.get("email"):
        return 0  # no way to email: the dashboard's warning is the reminder
    query = select(WrittenRequest).where(
        WrittenRequest.closed_at.is_(None), WrittenRequest.due_on <= today + REMIND_BEFORE
    )
    due = [r for r in await db.scalars(query) if r.reminded_for != r.due_on]
    for request in due:
        request.reminded_for = request.due_on
        payload = {"kind": request.kind, "due_on": request.due_on.isoformat()}
        outbox.stage(db, [outbox.job_row(tenant.id, REMINDER_TOPIC, payload)])
    await db.flush()
    return len(due)


def reminder_text(kind: str, due_on: date, today: date, admin_url: str) -> str:
    when = "is overdue" if due_on < today else f"must be answered by {due_on:%A %d %B %Y}"
    return (
        f"A rights request logged at your clinic ({KINDS.get(kind, kind)}) {when}.\n\n"
        f"See the request and answer or extend it under Admin, Rights requests: {admin_url}\n\n"
        "The law gives one calendar month from receipt; a complex request can be extended once "
        "by two further months, if the person is told why within the first month.\n"
    )


@handles(REMINDER_TOPIC)
async def send_reminders(job: Job) -> None:
    """Each clinic admin is told; a retry sends nothing twice (idempotency)."""
    due_on = date.fromisoformat(str(job.payload["due_on"]))
    kind = str(job.payload["kind"])
    async with job.reading() as db:
        admins = await db.scalars(
            select(User).where(User.role == Role.CLINIC_ADMIN.value, User.is_active.is_(True))
        )
        found = [(admin.id, admin.email) for admin in admins if admin.email]
    for admin_id, address in found:
        await job.providers.email.send(
            subject_id=admin_id,
            to=address,
            subject=f"A rights request is due on {due_on:%d %B %Y}",
            text=reminder_text(kind, due_on, job.now.date(), f"{job.site_url}/admin/requests"),
            about=(),
            idempotency_key=f"{job.key}:{admin_id}",
            attempt=job.attempt,
        )
