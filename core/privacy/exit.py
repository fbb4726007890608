"""A clinic that leaves the platform (P29).

The operator starts the exit with a date and a reason; the clinic's admins are told by email.
Until that date the clinic works as before (and downloads what it needs); from it, sign-in to
the clinic closes and its portal says so, with nothing deleted. ``retention.tenant_exit_months``
later ``praxis retention run`` purges every row of the clinic in every tenant table, its ledger
too, and destroys its data key, so encrypted backups of its sealed data are unreadable. What
stays is the platform's record of the purge: the clinic's id and slug, the rows each table
lost and the head of its ledger's hash chain.

On PostgreSQL the app role may only read and append to the ledger, and can become no other
role; the purge deletes the ledger's rows through one function that runs as
``praxis_retention`` (granted SELECT and DELETE on the three ledger tables and nothing else)
and refuses a clinic not already marked purged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger, outbox
from praxis.core.accounts.models import Role, User
from praxis.core.datakeys import DataKeys
from praxis.core.db import Base, utcnow
from praxis.core.errors import InvalidInput
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.core.ledger.events import LedgerHead
from praxis.core.outbox import Job, handles
from praxis.core.privacy import clinic_export
from praxis.core.privacy.models import TenantExit, TenantPurge
from praxis.core.privacy.retention import months_before
from praxis.core.tenancy import Database, rls
from praxis.core.tenancy.registry import tagged_tables, tenant_tables
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant

LEDGER_TABLES = ("ledger_events", "ledger_heads", "ledger_checkpoints")
ADMIN_EMAIL_TOPIC = "privacy.exit_email"
REASON_LIMIT = 300


def is_closed(tenant: TenantInfo, today: date) -> bool:
    """From the day it leaves, nobody signs in to the clinic."""
    return tenant.leaves_on is not None and today >= tenant.leaves_on


def purge_after(leaves_on: date, months: int) -> date:
    """The first day the clinic's rows may be purged: ``months`` after it left."""
    index = leaves_on.year * 12 + leaves_on.month - 1 + months
    year, month = divmod(index, 12)
    try:
        return leaves_on.replace(year=year, month=month + 1)
    except ValueError:  # the 31st in a shorter month: the 1st of the next one
        return date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)


async def exit_of(db: AsyncSession, tenant_id: uuid.UUID) -> TenantExit | None:
    return await db.get(TenantExit, tenant_id)


async def start_exit(
    db: AsyncSession,
    tenant: Tenant,
    *,
    leaves_on: str,
    reason: str,
    operator_id: uuid.UUID | None,
    today: date,
) -> TenantExit:
    """Record the clinic's exit (platform session) and queue an email to each of its admins.
    Bad input changes nothing and says which field to fix."""
    errors: dict[str, str] = {}
    day: date | None = None
    try:
        day = date.fromisoformat(leaves_on.strip())
    except ValueError:
        errors["leaves_on"] = "Enter the day sign-in closes as a date, like 2027-01-31."
    if day is not None and day < today:
        errors["leaves_on"] = "The day sign-in closes cannot be in the past."
    reason = reason.strip()
    if not reason:
        errors["reason"] = "Say why the clinic is leaving (for the record, not shown to patients)."
    elif len(reason) > REASON_LIMIT:
        errors["reason"] = f"Keep the reason under {REASON_LIMIT} characters."
    if tenant.status != "active":
        errors["leaves_on"] = "This clinic's data has already been purged."
    if errors or day is None:
        raise InvalidInput(errors)
    record = await db.get(TenantExit, tenant.id)
    if record is None:
        record = TenantExit(tenant_id=tenant.id, leaves_on=day, reason=reason)
        db.add(record)
    record.leaves_on, record.reason, record.started_by = day, reason, operator_id
    record.started_at = utcnow()
    tenant.leaves_on = day
    if tenant.providers.get("email"):
        payload = {"leaves_on": day.isoformat()}
        outbox.stage(db, [outbox.job_row(tenant.id, ADMIN_EMAIL_TOPIC, payload)])
    await db.flush()
    return record


async def record_exit_started(
    db: AsyncSession, tenant: TenantInfo, leaves_on: date, purge_on: date, *, now: datetime
) -> None:
    """The clinic's own ledger says when its exit was started and what follows (the operator
    is not one of the clinic's people, so no actor is named; the platform pages show who)."""
    await ledger.append(
        db,
        Entry(
            kind=EventKind.POLICY,
            status=Status.RECORDED,
            recipient=tenant.name,
            recipient_kind=RecipientKind.OTHER,
            operation="clinic_exit_started",
            categories=[],
            purpose="the clinic leaves the platform (P29)",
            legal_basis="the clinic's contract with the platform",
            reason=f"sign-in closes on {leaves_on.isoformat()}; every row and the data key "
            f"are deleted on {purge_on.isoformat()}",
        ),
        now=now,
    )


def admin_email_text(tenant: TenantInfo, leaves_on: date, purge_on: date, site_url: str) -> str:
    return (
        f"{tenant.name} is leaving Praxis.\n\n"
        f"From {leaves_on:%d %B %Y} nobody can sign in to {site_url}: patients and staff see a "
        "page saying the clinic has left. Before then, download the clinic's full export under "
        "Admin, Clinic exit: every patient's records, the disclosure ledger and the billing "
        "records.\n\n"
        f"From {purge_on:%d %B %Y} every record of the clinic is deleted from Praxis and its "
        "data key destroyed, backups included. Nothing can be recovered after that.\n"
    )


@handles(ADMIN_EMAIL_TOPIC)
async def send_admin_emails(job: Job) -> None:
    """Tell each clinic admin what happens when; a retry sends nothing twice (idempotency)."""
    leaves_on = date.fromisoformat(str(job.payload["leaves_on"]))
    purge_on = purge_after(leaves_on, job.tenant.retention.tenant_exit_months)
    async with job.reading() as db:
        admins = (
            await db.scalars(
                select(User).where(User.role == Role.CLINIC_ADMIN.value, User.is_active.is_(True))
            )
        ).all()
        found = [(admin.id, admin.email) for admin in admins if admin.email]
    for admin_id, address in found:
        await job.providers.email.send(
            subject_id=admin_id,
            to=address,
            subject=f"{job.tenant.name} is leaving Praxis on {leaves_on:%d %B %Y}",
            text=admin_email_text(job.tenant, leaves_on, purge_on, job.site_url),
            about=(),
            idempotency_key=f"{job.key}:{admin_id}",
            attempt=job.attempt,
        )


@dataclass
class PurgeReport:
    slug: str
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        verb = "would purge" if self.dry_run else "purged"
        total = sum(self.counts.values())
        return [f"{self.slug}: clinic left; {verb} {total} rows and its data key"] + [
            f"  {name}: {count}" for name, count in sorted(self.counts.items()) if count
        ]


def _purge_order() -> list[str]:
    """Every table behind the wall, children before the tables they refer to; the ledger
    last (on PostgreSQL the retention function deletes it)."""
    walled = set(tenant_tables()) | set(tagged_tables())
    ordered = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in walled]
    return [n for n in ordered if n not in LEDGER_TABLES] + list(LEDGER_TABLES)


def _model(name: str) -> Any:
    """The mapped class of a table: the tenant filter narrows statements through it."""
    for mapper in Base.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == name:
            return mapper.class_
    raise LookupError(name)


async def _count(db: AsyncSession, name: str, tenant_id: uuid.UUID) -> int:
    model = _model(name)
    query = select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
    return int(await db.scalar(query) or 0)


async def purge(
    database: Database,
    data_keys: DataKeys,
    tenant: Tenant,
    *,
    dry_run: bool = False,
    var_dir: Path | None = None,
) -> PurgeReport:
    """Delete every row of the clinic in every walled table and its data key, in one
    transaction; write the platform's record of it."""
    report = PurgeReport(tenant.slug, dry_run)
    async with database.writing(tenant.id) as db:
        head = await db.scalar(select(LedgerHead))
        chain = (head.last_hash, int(head.last_seq)) if head is not None else ("", 0)
        postgres = rls.enforced(db)
        for name in _purge_order():
            model = _model(name)
            if dry_run:
                report.counts[name] = await _count(db, name, tenant.id)
                continue
            if name == LEDGER_TABLES[0]:
                await _record(db, tenant, report, chain)  # marks it purged: the ledger may go
                if postgres:  # the app's role may not delete it; the retention function may
                    report.counts.update(await rls.purge_ledger(db, tenant.id))
                    break
            result: Any = await db.execute(delete(model).where(model.tenant_id == tenant.id))
            report.counts[name] = int(result.rowcount or 0)
        if dry_run:
            return report
        await db.commit()
    data_keys.forget(tenant.id)
    if var_dir is not None:
        clinic_export.forget(var_dir, tenant.id)  # sealed with the key just destroyed anyway
    return report


async def _record(
    db: AsyncSession, tenant: Tenant, report: PurgeReport, chain: tuple[str, int]
) -> None:
    """The platform's record: counts so far (the ledger's are added after, see below)."""
    counts = dict(report.counts)
    for name in LEDGER_TABLES:
        counts.setdefault(name, await _count(db, name, tenant.id))
    db.add(
        TenantPurge(
            tenant_id=tenant.id,
            slug=tenant.slug,
            counts=counts,
            chain_head=chain[0],
            chain_length=chain[1],
        )
    )
    now = utcnow()
    await db.execute(update(Tenant).where(Tenant.id == tenant.id).values(status="purged"))
    await db.execute(
        update(TenantExit).where(TenantExit.tenant_id == tenant.id).values(purged_at=now)
    )
    await db.flush()


async def due_for_purge(database: Database, now: datetime) -> list[Tenant]:
    """Clinics whose exit date lies ``retention.tenant_exit_months`` or more behind."""
    async with database.reading() as db:
        rows = (
            await db.execute(
                select(Tenant, TenantExit)
                .join(TenantExit, TenantExit.tenant_id == Tenant.id)
                .where(Tenant.status == "active", TenantExit.purged_at.is_(None))
            )
        ).all()
    due = []
    for tenant, record in rows:
        months = TenantInfo.from_row(tenant).retention.tenant_exit_months
        if record.leaves_on <= months_before(now, months).date():
            due.append(tenant)
    return due


async def purge_due(
    database: Database,
    data_keys: DataKeys,
    *,
    now: datetime,
    dry_run: bool = False,
    slug: str | None = None,
    var_dir: Path | None = None,
) -> list[PurgeReport]:
    """Purge each clinic whose time has come (the daily retention run calls this)."""
    reports = []
    for tenant in await due_for_purge(database, now):
        if slug in (None, tenant.slug):
            reports.append(
                await purge(
                    database,
                    data_keys,
                    tenant,
                    dry_run=dry_run,
                    var_dir=var_dir,
                )
            )
    return reports
