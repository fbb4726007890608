"""A clinic's usage month by month, and its providers' health, for the operator's page.

Counts only: no patient is named, and nothing here leaves the platform."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from praxis.core import outbox
from praxis.core.accounts.models import Role, User
from praxis.core.booking.models import Appointment
from praxis.core.db import utcnow
from praxis.core.notifications.models import SentMessage
from praxis.core.outbox.queue import JobStatus, OutboxJob
from praxis.core.tenancy import Database
from praxis.core.video.models import VideoMeeting

MONTHS = 6


@dataclass(frozen=True)
class Month:
    label: str  # "2026-12"
    consumers: int  # new patients' accounts
    bookings: int
    messages: int  # emails and texts sent
    video_minutes: int


@dataclass(frozen=True)
class Health:
    failed_jobs: int  # on the clinic's failed list, waiting for staff
    waiting_jobs: int
    failures: list[tuple[str, str, int]]  # (kind of job, last reason, how many)


def _months(now: datetime) -> list[str]:
    year, month = now.year, now.month
    labels = []
    for _ in range(MONTHS):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return labels


def _label(at: datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}"


async def usage(
    database: Database, tenant_id: uuid.UUID, *, now: datetime | None = None
) -> list[Month]:
    """The last ``MONTHS`` months, newest first, in UTC."""
    now = now or utcnow()
    labels = _months(now)
    first = datetime(int(labels[-1][:4]), int(labels[-1][5:]), 1, tzinfo=UTC)
    async with database.reading(tenant_id) as db:
        consumers = Counter(
            _label(at)
            for at in await db.scalars(
                select(User.created_at).where(
                    User.role == Role.CONSUMER.value, User.created_at >= first
                )
            )
        )
        bookings = Counter(
            _label(at)
            for at in await db.scalars(
                select(Appointment.created_at).where(Appointment.created_at >= first)
            )
        )
        messages = Counter(
            _label(at)
            for at in await db.scalars(
                select(SentMessage.created_at).where(SentMessage.created_at >= first)
            )
        )
        minutes: Counter[str] = Counter()
        rows = await db.execute(
            select(VideoMeeting.session_started_at, VideoMeeting.session_ended_at).where(
                VideoMeeting.session_started_at >= first,
                VideoMeeting.session_ended_at.is_not(None),
            )
        )
        for started, ended in rows:
            if started is None or ended is None:
                continue
            minutes[_label(started)] += max(0, round((ended - started).total_seconds() / 60))
    return [
        Month(label, consumers[label], bookings[label], messages[label], minutes[label])
        for label in labels
    ]


async def health(database: Database, tenant_id: uuid.UUID) -> Health:
    async with database.reading(tenant_id) as db:
        rows = await db.execute(
            select(OutboxJob.topic, OutboxJob.last_error, func.count())
            .where(OutboxJob.status == JobStatus.DEAD.value)
            .group_by(OutboxJob.topic, OutboxJob.last_error)
            .order_by(func.count().desc())
            .limit(20)
        )
        failures = [(str(topic), str(error), int(count)) for topic, error, count in rows]
        waiting = await db.scalar(
            select(func.count()).where(OutboxJob.status == JobStatus.PENDING.value)
        )
        failed = await db.scalar(
            select(func.count()).where(OutboxJob.status == JobStatus.DEAD.value)
        )
    return Health(int(failed or 0), int(waiting or 0), failures)


async def retry_failed(database: Database, tenant_id: uuid.UUID) -> int:
    """The operator's "Try again" for a clinic's failed jobs (say, an invitation that waited
    for email settings): each back to pending with fresh attempts; how many."""
    async with database.writing(tenant_id) as db:
        dead = list(
            await db.scalars(select(OutboxJob.id).where(OutboxJob.status == JobStatus.DEAD.value))
        )
        for job_id in dead:
            await outbox.retry_dead(db, job_id)
        await db.commit()
    return len(dead)
