"""The clinic's full export, for a clinic that leaves (P29) or just wants everything: one ZIP
with every consumer's "Download my data" archive, the whole ledger and the billing records.

Built by the worker (it can be large); stored on disk sealed with the clinic's own data key,
chunk by chunk, so it is unreadable once the key is destroyed; streamed back in constant
memory. One export per clinic: asking again replaces it once the new one is built.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger, outbox
from praxis.core.accounts.models import Role, User
from praxis.core.datakeys import DataKeys
from praxis.core.db import utcnow
from praxis.core.outbox import Job, handles
from praxis.core.payments.models import Payment
from praxis.core.privacy import export
from praxis.core.tenancy import Database
from praxis.tenants.directory import TenantInfo

TOPIC = "privacy.clinic_export"
CHUNK = 64 * 1024  # bytes of archive per sealed line
BILLING = [
    "id",
    "appointment_id",
    "consumer_id",
    "plugin",
    "payment_ref",
    "amount_minor",
    "currency",
    "application_fee_minor",
    "refunded_minor",
    "status",
    "created_at",
    "paid_at",
]


def folder(var_dir: Path, tenant_id: uuid.UUID) -> Path:
    return var_dir / "clinic-exports" / str(tenant_id)


@dataclass(frozen=True)
class Status:
    requested: bool  # a build is queued or running
    ready_at: datetime | None  # when the downloadable one was built
    size_bytes: int


def status(var_dir: Path, tenant_id: uuid.UUID) -> Status:
    where = folder(var_dir, tenant_id)
    sealed = where / "export.sealed"
    ready_at, size = None, 0
    if sealed.exists():
        ready_at = datetime.fromtimestamp(sealed.stat().st_mtime, UTC)
        size = int((where / "size").read_text() or 0) if (where / "size").exists() else 0
    return Status((where / "requested").exists(), ready_at, size)


def request(db: AsyncSession, var_dir: Path, tenant_id: uuid.UUID) -> None:
    """Queue a build with the caller's transaction."""
    where = folder(var_dir, tenant_id)
    where.mkdir(parents=True, exist_ok=True)
    (where / "requested").write_text(utcnow().isoformat())
    outbox.stage(db, [outbox.job_row(tenant_id, TOPIC, {})])


async def _each(db: AsyncSession, model: Any, *where: Any) -> AsyncIterator[Any]:
    """Every row of ``model``, a page at a time in id order."""
    after = None
    while True:
        query = select(model).where(*where).order_by(model.id).limit(export.PAGE)
        if after is not None:
            query = query.where(model.id > after)
        rows = list((await db.scalars(query)).all())
        for row in rows:
            yield row
        if len(rows) < export.PAGE:
            return
        after = rows[-1].id


def _value(value: Any) -> Any:
    """A column's value as JSON or CSV holds it."""
    return export.plain(value) if isinstance(value, datetime | date | uuid.UUID) else value


def _plain_row(event: Any) -> dict[str, Any]:
    return {c.key: _value(getattr(event, c.key)) for c in event.__table__.columns}


async def write_archive(
    db: AsyncSession, tenant: TenantInfo, data_keys: DataKeys, target: IO[bytes]
) -> int:
    """The whole ZIP into ``target``; the number of consumers in it."""
    now = utcnow()
    consumers = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        async for user in _each(db, User, User.role == Role.CONSUMER.value):
            with tempfile.TemporaryFile() as one:
                await export.write_archive(export.Source(db, tenant, user, data_keys), one, now=now)
                one.seek(0)
                with archive.open(f"consumers/{user.username}-{user.id}.zip", "w") as raw:
                    shutil.copyfileobj(one, raw)
            consumers += 1
        with archive.open("ledger.jsonl", "w") as raw:
            async for batch in ledger.batches(db):
                for event in batch:
                    raw.write((json.dumps(_plain_row(event)) + "\n").encode())
        with archive.open("billing.csv", "w") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow(BILLING)
            async for payment in _each(db, Payment):
                writer.writerow([_value(getattr(payment, c)) for c in BILLING])
            text.flush()
            text.detach()
        head = {"clinic": tenant.name, "generated_at": now.isoformat(), "consumers": consumers}
        archive.writestr("README.json", json.dumps(head))
    return consumers


async def build(database: Database, data_keys: DataKeys, tenant: TenantInfo, var_dir: Path) -> int:
    """Build and store the sealed export; the number of consumers in it."""
    where = folder(var_dir, tenant.id)
    where.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as target:
        async with database.reading(tenant.id) as db:
            consumers = await write_archive(db, tenant, data_keys, target)
        size = target.tell()
        target.seek(0)
        partial = where / "export.sealed.partial"
        async with database.writing(tenant.id) as db:  # the key is made on first use
            with partial.open("w", encoding="ascii") as out:
                while block := target.read(CHUNK):
                    plain = base64.b64encode(block).decode()
                    out.write(await data_keys.seal(db, tenant.id, plain) + "\n")
            await db.commit()
    os.replace(partial, where / "export.sealed")
    (where / "size").write_text(str(size))
    (where / "requested").unlink(missing_ok=True)
    return consumers


@handles(TOPIC)
async def build_job(job: Job) -> None:
    settings = job.services.settings
    await build(job.services.database, DataKeys(job.keyring), job.tenant, settings.var_dir)


async def chunks(
    database: Database, data_keys: DataKeys, tenant_id: uuid.UUID, var_dir: Path
) -> AsyncIterator[bytes]:
    """The stored export, unsealed a chunk at a time."""
    sealed = folder(var_dir, tenant_id) / "export.sealed"
    async with database.reading(tenant_id) as db:
        with sealed.open(encoding="ascii") as lines:
            for line in lines:
                plain = await data_keys.unseal(db, tenant_id, line.strip())
                yield base64.b64decode(plain)


def forget(var_dir: Path, tenant_id: uuid.UUID) -> None:
    """Remove the stored export (a purged clinic's)."""
    shutil.rmtree(folder(var_dir, tenant_id), ignore_errors=True)
