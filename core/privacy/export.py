"""Download my data: the rights of access and portability (P31, P34).

One ZIP holds ``data.json`` (everything held about the person, section by section, the
ledger's record of who received it included), ``fhir.json`` (the clinical parts as a FHIR R4
Bundle) and ``summary.html`` (the same, to read). Each section is an async generator of
records registered with ``@section``; a domain adds its own (``register``) without this module
knowing it. The archive is built in one pass over the database, a page of rows at a time, into
temporary files (constant memory whatever the history), then stored in sealed chunks until its
link expires. Asking, and each download, are in the ledger.
"""

from __future__ import annotations

import base64
import html
import json
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any

import structlog
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger, outbox
from praxis.core.accounts.models import Professional, User
from praxis.core.booking.models import Appointment, ConsultationType
from praxis.core.consents import services as consents
from praxis.core.consents.kinds import INTAKE_SHARING
from praxis.core.consents.models import ConsentRecord
from praxis.core.datakeys import DataKeyMissing, DataKeys
from praxis.core.db import utcnow
from praxis.core.errors import NotFound
from praxis.core.intake.models import IntakeQuestionnaire, IntakeResponse
from praxis.core.ledger import Entry, EventKind, LedgerEvent, RecipientKind, Status
from praxis.core.outbox import Job, handles
from praxis.core.payments.models import Payment
from praxis.core.privacy import fhir
from praxis.core.privacy.models import DataExport, DataExportChunk, ExportStatus
from praxis.core.providers.manifest import DataCategory
from praxis.core.tenancy import Database
from praxis.tenants.directory import TenantInfo

log = structlog.get_logger("praxis.privacy.export")
TOPIC = "privacy.export"
FORMAT = "praxis-data-export/1"
VALID_FOR = timedelta(days=7)  # the link works this long; then the archive is deleted
CHUNK = 64 * 1024  # bytes of archive per sealed row: small, so memory stays flat
PAGE = 500  # rows read from the database at a time
BUILT_AT_ONCE = 200  # a history of at most this many records is built in the request
ACCESS_PURPOSE = "give the person a copy of their data (UK GDPR Art. 15 and 20)"
ACCESS_BASIS = "legal obligation (UK GDPR Art. 6(1)(c))"
HOLDER = "The account holder"  # who receives a download: the person themselves
EVERYTHING = [c.value for c in DataCategory]


@dataclass(frozen=True)
class Source:
    """What a section reads with: one snapshot of the clinic's database, about one person."""

    db: AsyncSession
    tenant: TenantInfo
    user: User
    data_keys: DataKeys


Section = Callable[[Source], AsyncIterator[dict[str, Any]]]
SECTIONS: dict[str, Section] = {}
TITLES: dict[str, str] = {}


def register(name: str, title: str, reader: Section) -> None:
    """Add a section to every export (a domain's own data: messages, consents...)."""
    if name in SECTIONS and SECTIONS[name] is not reader:
        raise RuntimeError(f"two export sections named {name}")
    SECTIONS[name] = reader
    TITLES[name] = title


def section(name: str, title: str) -> Callable[[Section], Section]:
    def add(reader: Section) -> Section:
        register(name, title, reader)
        return reader

    return add


def plain(value: Any) -> Any:
    """JSON for the values rows hold."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} into an export")


async def paged(db: AsyncSession, query: Any, *order: Any) -> AsyncIterator[Any]:
    """Every row of ``query``, PAGE at a time in ``order`` (columns ending in a unique one, so
    a page starts exactly after the last row of the one before: keyset paging)."""
    keys = [column.label(f"_order_{i}") for i, column in enumerate(order)]
    query = query.add_columns(*keys)
    after: tuple[Any, ...] | None = None
    while True:
        page = query if after is None else query.where(tuple_(*order) > tuple_(*after))
        rows = list((await db.execute(page.order_by(*order).limit(PAGE))).all())
        count = len(rows)
        if rows:
            after = tuple(getattr(rows[-1], key.name) for key in keys)
        rows.reverse()
        while rows:  # handed out and let go one by one: two pages are never held at once
            yield rows.pop()
        if count < PAGE:
            return


# --- the sections every clinic has ------------------------------------------------------


@section("account", "Your account")
async def _account(src: Source) -> AsyncIterator[dict[str, Any]]:
    user = src.user
    yield {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "address_line1": user.address_line1,
        "address_line2": user.address_line2,
        "town": user.town,
        "postcode": user.postcode,
        "country": user.country,
        "is_active": user.is_active,
        "two_step_sign_in": user.totp_enabled_at is not None,
        "created_at": user.created_at,
    }


@section("appointments", "Your appointments")
async def _appointments(src: Source) -> AsyncIterator[dict[str, Any]]:
    query = (
        select(
            Appointment,
            Professional.display_name,
            ConsultationType.name,
        )
        .join(Professional, Professional.id == Appointment.professional_id)
        .join(ConsultationType, ConsultationType.id == Appointment.consultation_type_id)
        .where(Appointment.consumer_id == src.user.id)
    )
    async for row in paged(src.db, query, Appointment.starts_at, Appointment.id):
        a: Appointment = row.Appointment
        yield {
            "id": a.id,
            "professional": row.display_name,
            "consultation_type": row.name,
            "mode": a.mode,
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "status": a.status,
            "price_minor": a.price_minor,
            "currency": a.currency,
            "created_at": a.created_at,
            "confirmed_at": a.confirmed_at,
            "cancelled_at": a.cancelled_at,
        }


@section("payments", "Your payments")
async def _payments(src: Source) -> AsyncIterator[dict[str, Any]]:
    query = select(Payment).where(Payment.consumer_id == src.user.id)
    async for row in paged(src.db, query, Payment.created_at, Payment.id):
        p: Payment = row.Payment
        yield {
            "id": p.id,
            "appointment_id": p.appointment_id,
            "amount_minor": p.amount_minor,
            "currency": p.currency,
            "refunded_minor": p.refunded_minor,
            "status": p.status,
            "processor": p.plugin,
            "payment_ref": p.payment_ref,
            "created_at": p.created_at,
            "paid_at": p.paid_at,
        }


@section("intake_answers", "Your answers to the intake questionnaire")
async def _intake(src: Source) -> AsyncIterator[dict[str, Any]]:
    query = (
        select(
            IntakeResponse,
            IntakeQuestionnaire.title,
            IntakeQuestionnaire.version,
            Professional.display_name,
        )
        .join(IntakeQuestionnaire, IntakeQuestionnaire.id == IntakeResponse.questionnaire_id)
        .join(Professional, Professional.id == IntakeResponse.professional_id)
        .where(IntakeResponse.consumer_id == src.user.id)
    )
    async for row in paged(src.db, query, IntakeResponse.completed_at, IntakeResponse.id):
        r: IntakeResponse = row.IntakeResponse
        try:
            answers = json.loads(
                await src.data_keys.unseal(src.db, src.tenant.id, r.answers_sealed)
            )
        except DataKeyMissing:
            answers = None  # the clinic's key is gone: the answers no longer exist anywhere
        yield {
            "id": r.id,
            "questionnaire": row.title,
            "questionnaire_version": row.version,
            "professional": row.display_name,
            "shared_with_professional": await consents.allows(
                src.db, INTAKE_SHARING, consents.Whose(src.user.id, scope_id=r.professional_id)
            ),
            "completed_at": r.completed_at,
            "answers": answers,
        }


@section("consents", "Your consents, each given or withdrawn")
async def _consents(src: Source) -> AsyncIterator[dict[str, Any]]:
    query = select(ConsentRecord).where(ConsentRecord.subject_id == src.user.id)
    async for row in paged(src.db, query, ConsentRecord.recorded_at, ConsentRecord.id):
        record: ConsentRecord = row.ConsentRecord
        yield {
            "id": record.id,
            "purpose": record.purpose,
            "channel": record.channel,
            "given": record.given,
            "method": record.method,
            "on_your_behalf_by": record.actor_id,
            "notice_version": record.notice_version,
            "recorded_at": record.recorded_at,
        }


@section("disclosures", "Who received your data (the clinic's ledger)")
async def _ledger(src: Source) -> AsyncIterator[dict[str, Any]]:
    query = select(LedgerEvent).where(
        LedgerEvent.subject_id == src.user.id  # the (tenant, subject, seq) index, in order
    )
    async for row in paged(src.db, query, LedgerEvent.seq):
        event: LedgerEvent = row.LedgerEvent
        yield {
            "seq": event.seq,
            "recorded_at": event.recorded_at,
            "kind": event.kind,
            "status": event.status,
            "recipient": event.recipient,
            "recipient_kind": event.recipient_kind,
            "operation": event.operation,
            "categories": event.category_list,
            "purpose": event.purpose,
            "legal_basis": event.legal_basis,
            "reason": event.reason,
        }


# --- building -----------------------------------------------------------------------------


class _Summary:
    """summary.html, written a row at a time."""

    def __init__(self, out: IO[str], tenant: TenantInfo, now: datetime) -> None:
        self.out = out
        self.columns: list[str] | None = None
        name = html.escape(tenant.name)
        out.write(
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Your data held by {name}</title></head><body>\n"
            f"<h1>Your data held by {name}</h1>\n<p>Made on {now:%d %B %Y at %H:%M} UTC. "
            "The same data, for computers, is in data.json and fhir.json.</p>\n"
        )

    def begin(self, title: str) -> None:
        self.columns = None
        self.out.write(f"<h2>{html.escape(title)}</h2>\n")

    def row(self, record: dict[str, Any]) -> None:
        if self.columns is None:
            self.columns = list(record)
            head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in self.columns)
            self.out.write(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n")
        cells = "".join(f"<td>{html.escape(_cell(record.get(c)))}</td>" for c in self.columns)
        self.out.write(f"<tr>{cells}</tr>\n")

    def end(self) -> None:
        self.out.write("</tbody></table>\n" if self.columns is not None else "<p>None.</p>\n")

    def close(self) -> None:
        self.out.write("</body></html>\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=plain, ensure_ascii=False)
    return str(plain(value) if isinstance(value, datetime | date | uuid.UUID) else value)


async def write_archive(src: Source, target: IO[bytes], *, now: datetime) -> int:
    """Write the ZIP into ``target`` in one pass over the sections; the number of records."""
    records = 0
    patient_ref = f"urn:uuid:{src.user.id}"
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as bundle,
        tempfile.TemporaryFile("w+", encoding="utf-8") as summary_file,
        zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        summary = _Summary(summary_file, src.tenant, now)
        bundle.write(
            '{"resourceType": "Bundle", "type": "collection", '
            f'"timestamp": {json.dumps(now.isoformat())}, "entry": ['
        )
        first_entry = True
        with archive.open("data.json", "w") as raw:
            data = _Text(raw)
            head = {"format": FORMAT, "clinic": src.tenant.name, "generated_at": now.isoformat()}
            data.write(json.dumps(head)[:-1] + ', "sections": {')
            for index, (name, reader) in enumerate(SECTIONS.items()):
                data.write(("" if index == 0 else ", ") + json.dumps(name) + ": [")
                summary.begin(TITLES[name])
                mapper = fhir.MAPPERS.get(name)
                first = True
                async for record in reader(src):
                    data.write(("" if first else ", ") + json.dumps(record, default=plain))
                    first = False
                    records += 1
                    plain_record = json.loads(json.dumps(record, default=plain))
                    summary.row(plain_record)
                    resource = mapper(plain_record, patient_ref) if mapper else None
                    if resource is not None:
                        bundle.write(
                            ("" if first_entry else ", ") + json.dumps(fhir.entry(resource))
                        )
                        first_entry = False
                data.write("]")
                summary.end()
            data.write("}}")
        bundle.write("]}")
        summary.close()
        for name, source in (("fhir.json", bundle), ("summary.html", summary_file)):
            source.seek(0)
            with archive.open(name, "w") as raw:
                shutil.copyfileobj(_Encoded(source), raw)
    return records


class _Text:
    """Text written into a binary zip entry."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw

    def write(self, text: str) -> None:
        self.raw.write(text.encode())


class _Encoded:
    """Reads a text file as UTF-8 bytes, a block at a time (for copyfileobj)."""

    def __init__(self, source: IO[str]) -> None:
        self.source = source

    def read(self, size: int = -1) -> bytes:
        return self.source.read(size if size > 0 else CHUNK).encode()


# --- asking, building, downloading ------------------------------------------------------------


async def request(
    db: AsyncSession, tenant: TenantInfo, user: User, *, now: datetime | None = None
) -> DataExport:
    """Ask for an archive (in the caller's transaction): queued for the worker, in the ledger.
    An archive already being built is reused rather than built twice."""
    now = now or utcnow()
    pending = await db.scalar(
        select(DataExport).where(
            DataExport.user_id == user.id, DataExport.status == ExportStatus.QUEUED.value
        )
    )
    if pending is not None:
        return pending
    export = DataExport(user_id=user.id, requested_at=now, expires_at=now + VALID_FOR)
    db.add(export)
    await db.flush()
    await ledger.append(
        db,
        Entry(
            kind=EventKind.RIGHTS_REQUEST,
            status=Status.RECORDED,
            recipient=tenant.controller.legal_name or tenant.name,
            recipient_kind=RecipientKind.OTHER,
            operation="access",
            categories=EVERYTHING,
            purpose=ACCESS_PURPOSE,
            legal_basis=ACCESS_BASIS,
            subject_id=user.id,
            actor_id=user.id,
            correlation_id=str(export.id),
            reason="the person asked for a copy of their data in the portal",
        ),
        now=now,
    )
    outbox.enqueue(db, tenant.id, TOPIC, {"export_id": str(export.id)})
    return export


async def size_of_history(db: AsyncSession, user_id: uuid.UUID) -> int:
    """Roughly how many records an export would hold: small ones are built at once."""
    counts = [
        await db.scalar(select(func.count()).where(Appointment.consumer_id == user_id)),
        await db.scalar(select(func.count()).where(ledger.LedgerEvent.subject_id == user_id)),
    ]
    return sum(c or 0 for c in counts)


async def build(
    database: Database, data_keys: DataKeys, tenant: TenantInfo, export_id: uuid.UUID
) -> bool:
    """Build a queued archive and store it sealed; idempotent (a built one is left alone)."""
    now = utcnow()
    with tempfile.TemporaryFile() as target:
        async with database.reading(tenant.id) as db:
            export = await db.get(DataExport, (tenant.id, export_id))
            if export is None or export.status != ExportStatus.QUEUED.value:
                return False
            user = await db.get(User, (tenant.id, export.user_id))
            if user is None:
                return False
            records = await write_archive(Source(db, tenant, user, data_keys), target, now=now)
        size = target.tell()
        target.seek(0)
        async with database.writing(tenant.id) as db:
            export = await db.get(DataExport, (tenant.id, export_id), with_for_update=True)
            if export is None or export.status != ExportStatus.QUEUED.value:
                return False  # another worker finished it meanwhile
            await db.execute(delete(DataExportChunk).where(DataExportChunk.export_id == export_id))
            n = 0
            while block := target.read(CHUNK):
                text = base64.b64encode(block).decode()
                sealed = await data_keys.seal(db, tenant.id, text)
                db.add(DataExportChunk(export_id=export_id, n=n, sealed=sealed))
                n += 1
                if n % 8 == 0:
                    await db.flush()  # keep few chunks in the session at once
                    db.expunge_all()
                    export = await db.get(DataExport, (tenant.id, export_id))
                    assert export is not None
            export.status = ExportStatus.READY.value
            export.ready_at = utcnow()
            export.expires_at = export.ready_at + VALID_FOR
            export.records, export.size_bytes, export.chunks = records, size, n
            await db.commit()
    log.info("export_built", export_id=str(export_id), records=records, size=size)
    return True


async def prepare(
    database: Database, data_keys: DataKeys, tenant: TenantInfo, export_id: uuid.UUID
) -> bool:
    """Build the archive, or mark it failed if the clinic's data key cannot be used: the
    person then sees that, not "being prepared" for ever. True if it was built now."""
    try:
        return await build(database, data_keys, tenant, export_id)
    except DataKeyMissing:
        async with database.writing(tenant.id) as db:
            found = await db.get(DataExport, (tenant.id, export_id))
            if found is not None and found.status == ExportStatus.QUEUED.value:
                found.status = ExportStatus.FAILED.value
            await db.commit()
        return False


@handles(TOPIC)
async def build_job(job: Job) -> None:
    # Unwrapped afresh for each archive: a destroyed clinic key stops working at once.
    data_keys = DataKeys(job.keyring)
    await prepare(job.services.database, data_keys, job.tenant, uuid.UUID(job.payload["export_id"]))


async def mine(db: AsyncSession, user_id: uuid.UUID, *, now: datetime) -> list[DataExport]:
    """The person's archives whose link still works, newest first."""
    query = (
        select(DataExport)
        .where(DataExport.user_id == user_id, DataExport.expires_at > now)
        .order_by(DataExport.requested_at.desc())
        .limit(10)
    )
    return list((await db.scalars(query)).all())


async def ready_for(
    db: AsyncSession, user_id: uuid.UUID, export_id: uuid.UUID, *, now: datetime
) -> DataExport:
    """The person's own archive, ready and unexpired; anything else is not found."""
    export = await db.scalar(
        select(DataExport).where(DataExport.id == export_id, DataExport.user_id == user_id)
    )
    if export is None or export.status != ExportStatus.READY.value or export.expires_at <= now:
        raise NotFound("This download has expired or does not exist. Ask for a new one.")
    return export


async def record_download(
    db: AsyncSession, export: DataExport, *, actor_id: uuid.UUID, now: datetime
) -> None:
    """The download is in the ledger before the first byte leaves (in the caller's transaction)."""
    export.downloaded_at = now
    await ledger.append(
        db,
        Entry(
            kind=EventKind.EXPORT,
            status=Status.RECORDED,
            recipient=HOLDER,
            recipient_kind=RecipientKind.OTHER,
            operation="download_my_data",
            categories=EVERYTHING,
            purpose=ACCESS_PURPOSE,
            legal_basis=ACCESS_BASIS,
            subject_id=export.user_id,
            actor_id=actor_id,
            correlation_id=str(export.id),
        ),
        now=now,
    )


async def chunks(
    database: Database, data_keys: DataKeys, tenant_id: uuid.UUID, export_id: uuid.UUID
) -> AsyncIterator[bytes]:
    """The archive's bytes, one chunk read and unsealed at a time."""
    n = 0
    async with database.reading(tenant_id) as db:
        while True:
            row = await db.get(DataExportChunk, (tenant_id, export_id, n))
            if row is None:
                return
            yield base64.b64decode(await data_keys.unseal(db, tenant_id, row.sealed))
            db.expunge(row)
            n += 1


async def forget(db: AsyncSession, user_id: uuid.UUID) -> int:
    """Delete every archive of one person, ready or not (erasure: nothing of them is kept)."""
    ids = list((await db.scalars(select(DataExport.id).where(DataExport.user_id == user_id))).all())
    if ids:
        await db.execute(delete(DataExportChunk).where(DataExportChunk.export_id.in_(ids)))
        await db.execute(delete(DataExport).where(DataExport.id.in_(ids)))
    return len(ids)


async def purge_expired(db: AsyncSession, *, now: datetime | None = None) -> int:
    """Delete archives past their link's life (their chunks go with them)."""
    now = now or utcnow()
    expired = list(
        (await db.scalars(select(DataExport.id).where(DataExport.expires_at <= now))).all()
    )
    if expired:
        await db.execute(delete(DataExportChunk).where(DataExportChunk.export_id.in_(expired)))
        await db.execute(delete(DataExport).where(DataExport.id.in_(expired)))
    return len(expired)
