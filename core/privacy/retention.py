"""Retention that really deletes (P28, P30): ``praxis retention run``, daily in the worker.

For one clinic: accounts closed longer than ``retention.closed_account_months`` (or whose
erasure waited for a legal hold to end) are erased; billing records older than
``retention.billing_years`` are deleted; erased accounts with no billing record left are
deleted with the appointments under them; marketing-only subscribers are deleted six months
after they stopped everything (a sign-up never confirmed after 30 days); staff invitations
past their expiry and never accepted are deleted with the invitee's name and address (nothing
else was made for them). Legal holds pause all of it: one on the whole clinic stops the run,
one on a person keeps that person's records.
Running twice removes nothing more; each real run writes its counts (never names) to the ledger.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.accounts import pending_invitations, security_log
from praxis.core.accounts.models import User
from praxis.core.booking.models import Appointment
from praxis.core.consents import subscribers
from praxis.core.ledger import Entry, EventKind, LedgerEvent, RecipientKind, Status
from praxis.core.payments.models import Payment
from praxis.core.privacy import holds
from praxis.core.privacy.erasure import erase_closed
from praxis.core.privacy.models import AccountClosure
from praxis.core.providers.manifest import DataCategory
from praxis.core.video.models import VideoMeeting
from praxis.tenants.directory import TenantInfo

# A deletion job retries for about a day before it gives up; a week is plenty.
ROOM_DELETION_WAIT = timedelta(days=7)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the 31st becomes the last)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass
class RetentionReport:
    """What one clinic's run removed (or, on a dry run, would remove)."""

    slug: str
    dry_run: bool
    clinic_held: bool = False
    accounts_erased: int = 0
    billing_records_deleted: int = 0
    accounts_deleted: int = 0
    kept_for_holds: int = 0
    subscribers_deleted: int = 0
    security_events_deleted: int = 0
    invitations_deleted: int = 0
    erased_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def removed(self) -> int:
        return (
            self.accounts_erased
            + self.billing_records_deleted
            + self.accounts_deleted
            + self.subscribers_deleted
            + self.security_events_deleted
            + self.invitations_deleted
        )

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        if self.clinic_held:
            return [f"{self.slug}: nothing removed: a legal hold covers the whole clinic"]
        lines = [
            f"{self.slug}: {verb} {self.removed} records",
            f"  closed accounts erased: {self.accounts_erased}",
            f"  billing records past their retention: {self.billing_records_deleted}",
            f"  erased accounts deleted (no billing record left): {self.accounts_deleted}",
            f"  marketing-only subscribers, 6 months after opting out: {self.subscribers_deleted}",
            f"  security log events older than {security_log.KEEP_MONTHS} months: "
            f"{self.security_events_deleted}",
            f"  staff invitations expired without being accepted: {self.invitations_deleted}",
        ]
        if self.kept_for_holds:
            lines.append(f"  kept because of a legal hold: {self.kept_for_holds}")
        return lines


async def _closures_due(
    db: AsyncSession, tenant: TenantInfo, now: datetime
) -> list[AccountClosure]:
    cutoff = months_before(now, tenant.retention.closed_account_months)
    query = select(AccountClosure).where(
        AccountClosure.erased_at.is_(None),
        or_(AccountClosure.closed_at <= cutoff, AccountClosure.erase_requested.is_(True)),
    )
    return list((await db.scalars(query.order_by(AccountClosure.closed_at))).all())


async def _old_payments(db: AsyncSession, tenant: TenantInfo, now: datetime) -> list[Payment]:
    cutoff = months_before(now, tenant.retention.billing_years * 12)
    query = select(Payment).where(Payment.created_at <= cutoff)
    return list((await db.scalars(query.order_by(Payment.created_at))).all())


def _no_rooms_left(user_id: Any) -> Any:
    """A room the provider has not confirmed deleted keeps the rows its deletion job reads."""
    return ~exists().where(
        VideoMeeting.appointment_id == Appointment.id,
        Appointment.consumer_id == user_id,
        VideoMeeting.deleted_at.is_(None),
    )


async def _tombstones(
    db: AsyncSession,
    candidates: set[uuid.UUID],
    deleted_payments: set[uuid.UUID],
    now: datetime,
) -> list[uuid.UUID]:
    """Erased accounts (and ``candidates`` about to be) that no billing record refers to any
    more (``deleted_payments`` count as gone) and whose rooms are all deleted, or were erased
    long enough ago that every deletion job has finished or given up (see /admin/outbox)."""
    erased = select(AccountClosure.user_id).where(
        AccountClosure.erased_at.is_not(None),
        or_(
            AccountClosure.erased_at <= now - ROOM_DELETION_WAIT,
            _no_rooms_left(AccountClosure.user_id),
        ),
    )
    found = set((await db.scalars(erased)).all()) | candidates
    if not found:
        return []
    billed = select(Payment.consumer_id, Payment.id).where(Payment.consumer_id.in_(found))
    for consumer_id, payment_id in (await db.execute(billed)).all():
        if payment_id not in deleted_payments:
            found.discard(consumer_id)
    return sorted(found)


async def run(
    db: AsyncSession, tenant: TenantInfo, *, now: datetime, dry_run: bool = False
) -> RetentionReport:
    """One clinic's retention; commits unless ``dry_run`` (which changes nothing)."""
    report = RetentionReport(tenant.slug, dry_run)
    if await holds.clinic_held(db):
        report.clinic_held = True
        if not dry_run:
            await _summary(db, tenant, report, now)
            await db.commit()
        return report
    held = await holds.held_subjects(db)

    for closure in await _closures_due(db, tenant, now):
        if closure.user_id in held:
            report.kept_for_holds += 1
            continue
        report.accounts_erased += 1
        report.erased_ids.append(closure.user_id)
        if not dry_run:
            await erase_closed(db, tenant, closure, now=now)

    old = [p for p in await _old_payments(db, tenant, now) if p.consumer_id not in held]
    report.billing_records_deleted = len(old)
    if old and not dry_run:
        # Their refunds go with them (a foreign key within billing); nothing else refers here.
        await db.execute(delete(Payment).where(Payment.id.in_([p.id for p in old])))

    # On a dry run nothing was erased or deleted above: count what would have been.
    candidates = set(report.erased_ids) if dry_run else set()
    tombstones = []
    for user_id in await _tombstones(db, candidates, {p.id for p in old}, now):
        if user_id in held:
            report.kept_for_holds += 1
        else:
            tombstones.append(user_id)
    report.accounts_deleted = len(tombstones)
    if tombstones and not dry_run:
        # Appointments, closures and any other row under the account go with it; billing
        # records have no foreign key to people, so no cascade reaches a payment (P30).
        await db.execute(delete(User).where(User.id.in_(tombstones)))

    # No account, so no hold on a person can name them: only a clinic-wide hold keeps them.
    gone = await subscribers.expired(db, now)
    report.subscribers_deleted = len(gone)
    if gone and not dry_run:
        await subscribers.delete_all(db, gone)
    report.security_events_deleted = await security_log.purge(db, now, dry_run=dry_run)
    report.invitations_deleted = await pending_invitations.purge_expired(db, now, dry_run=dry_run)

    if not dry_run:
        await _summary(db, tenant, report, now)
        await db.commit()
    return report


async def _summary(
    db: AsyncSession, tenant: TenantInfo, report: RetentionReport, now: datetime
) -> None:
    """Counts only: what the run removed is gone, and the ledger never held it."""
    reason = (
        "paused: a legal hold covers the whole clinic"
        if report.clinic_held
        else (
            f"{report.accounts_erased} closed accounts erased, "
            f"{report.billing_records_deleted} billing records deleted, "
            f"{report.accounts_deleted} erased accounts deleted, "
            f"{report.subscribers_deleted} marketing-only subscribers deleted, "
            f"{report.security_events_deleted} old security log events deleted, "
            f"{report.invitations_deleted} expired staff invitations deleted, "
            f"{report.kept_for_holds} kept for legal holds"
        )
    )
    await ledger.append(
        db,
        Entry(
            kind=EventKind.RETENTION,
            status=Status.RECORDED,
            recipient=tenant.name,
            recipient_kind=RecipientKind.OTHER,
            operation="retention_run",
            categories=[c.value for c in DataCategory] if report.removed else [],
            purpose="delete personal data and billing records past their retention periods",
            legal_basis="storage limitation (UK GDPR Art. 5(1)(e))",
            reason=reason,
        ),
        now=now,
    )


DAILY = timedelta(hours=23)  # a little under a day, so a daily run never slips a day


async def due(db: AsyncSession, now: datetime) -> bool:
    """Whether a day has passed since the clinic's last run (the ledger remembers it), so
    any number of workers scanning every minute still run it about once a day."""
    query = select(func.max(LedgerEvent.recorded_at)).where(
        LedgerEvent.kind == EventKind.RETENTION.value
    )
    last = await db.scalar(query)
    if last is None:
        return True
    if last.tzinfo is None:  # SQLite hands back naive UTC
        last = last.replace(tzinfo=UTC)
    return now - last >= DAILY


@dataclass(frozen=True)
class Waiting:
    """A closed account not erased yet, as staff see it."""

    username: str
    closed_at: datetime
    erase_from: datetime  # when retention erases it (at once, if the person asked)
    held: bool


@dataclass(frozen=True)
class Overview:
    preview: RetentionReport  # what a run now would remove
    waiting: list[Waiting]
    last_run: datetime | None


async def overview(db: AsyncSession, tenant: TenantInfo, *, now: datetime) -> Overview:
    """What the clinic's DPO checks: accounts waiting for erasure, and the next run's effect."""
    preview = await run(db, tenant, now=now, dry_run=True)
    held = await holds.held_subjects(db)
    clinic_held = preview.clinic_held
    months = tenant.retention.closed_account_months
    query = (
        select(AccountClosure, User.username)
        .join(User, User.id == AccountClosure.user_id)
        .where(AccountClosure.erased_at.is_(None))
        .order_by(AccountClosure.closed_at)
    )
    waiting = [
        Waiting(
            username,
            closure.closed_at,
            closure.closed_at
            if closure.erase_requested
            else _months_after(closure.closed_at, months),
            clinic_held or closure.user_id in held,
        )
        for closure, username in (await db.execute(query)).all()
    ]
    last = await db.scalar(
        select(func.max(LedgerEvent.recorded_at)).where(
            LedgerEvent.kind == EventKind.RETENTION.value,
            LedgerEvent.operation == "retention_run",
        )
    )
    return Overview(preview, waiting, last)


def _months_after(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)
