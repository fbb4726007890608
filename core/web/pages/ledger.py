"""The ledger on screen: a consumer's "who received my data", and the clinic's whole ledger
for staff to browse, filter, export (CSV, JSON) and add manual disclosures to (P21)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response, StreamingResponse

from praxis.core import ledger
from praxis.core.accounts import consumers
from praxis.core.accounts.fields import parse
from praxis.core.booking.forms import in_diary
from praxis.core.errors import InvalidInput
from praxis.core.ledger import EventKind, LedgerEvent, LedgerFilter, checkpoints, offline
from praxis.core.privacy import manual, staff_exports
from praxis.core.providers.manifest import DataCategory
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
ADMIN = Access.CLINIC_ADMIN
PAGE = 50
COLUMNS = ("seq", *ledger.HASHED, "hash")  # an export carries what the chain covers


@pages.page("/account/disclosures", access=Access.CONSUMER)
async def my_disclosures(ctx: Ctx) -> Response:
    found = await ledger.history(ctx.db, ctx.me.id, since=ctx.me.created_at)
    return render(
        ctx,
        "account/disclosures.html",
        disclosures=found,
        words=ledger.CATEGORY_WORDS,
        title="Who received my data",
    )


def _day(raw: str) -> date | None:
    try:
        day = date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    return day if day and in_diary(day) else None  # the calendar's ends overflow in the zone


async def _filter(ctx: Ctx) -> tuple[LedgerFilter, dict[str, str]]:
    """The filter from the query string; an unknown consumer matches nothing."""
    q = ctx.request.query_params
    shown = {
        name: q.get(name, "").strip() for name in ("kind", "consumer", "recipient", "from", "to")
    }
    subject = None
    if shown["consumer"]:
        subject = await consumers.consumer_id(ctx.db, shown["consumer"]) or uuid.UUID(int=0)
    zone = ctx.tenant.zone
    since, until = _day(shown["from"]), _day(shown["to"])
    kinds = {k.value for k in EventKind}
    return (
        LedgerFilter(
            kind=shown["kind"] if shown["kind"] in kinds else None,
            subject_id=subject,
            recipient=shown["recipient"] or None,
            since=datetime.combine(since, time.min, zone) if since else None,
            until=datetime.combine(until + timedelta(days=1), time.min, zone) if until else None,
        ),
        shown,
    )


@pages.page("/admin/ledger", access=ADMIN)
async def browse(ctx: Ctx) -> Response:
    where, shown = await _filter(ctx)
    before = ctx.request.query_params.get("before", "")
    events = await ledger.browse(
        ctx.db, where, before_seq=int(before) if before.isdigit() else None, limit=PAGE
    )
    query = urlencode({k: v for k, v in shown.items() if v})  # "A&B Ltd" stays one value
    return render(
        ctx,
        "admin/ledger.html",
        events=events,
        shown=shown,
        kinds=[k.value for k in EventKind],
        more=events[-1].seq if len(events) == PAGE else None,
        query=query,
        key_id=ctx.rt.ledger_key.public.key_id,  # the fingerprint a DPO compares a download with
        title="Ledger",
    )


def _row(event: LedgerEvent) -> dict[str, Any]:
    row = {name: getattr(event, name) for name in COLUMNS}
    row["prev_hash"] = event.prev_hash  # the link: a download is verified without a database
    row["recorded_at"] = event.recorded_at.isoformat()
    for name in ("subject_id", "actor_id", "recipient_id"):
        row[name] = str(row[name]) if row[name] else None
    return row


async def _rows(ctx: Ctx) -> AsyncIterator[dict[str, Any]]:
    """Every matching row, read when the download is sent: after the page's own session has
    closed, so in a session (and one consistent snapshot) of its own."""
    where, _ = await _filter(ctx)
    rt, tenant_id = ctx.rt, ctx.tenant.id

    async def rows() -> AsyncIterator[dict[str, Any]]:
        async with rt.database.reading(tenant_id) as db:
            async for batch in ledger.batches(db, where):
                for event in batch:
                    yield _row(event)

    return rows()


def _download(body: AsyncIterator[str], media_type: str, name: str) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    }
    return StreamingResponse(body, media_type=media_type, headers=headers)


@pages.page("/admin/ledger.csv", access=ADMIN)
async def export_csv(ctx: Ctx) -> Response:
    await _record_download(ctx, "ledger_csv")
    found = await _rows(ctx)

    async def lines() -> AsyncIterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        async for row in found:
            writer.writerow([_cell(row[c]) for c in COLUMNS])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()

    return _download(lines(), "text/csv; charset=utf-8", f"ledger-{ctx.tenant.slug}.csv")


@pages.page("/admin/ledger.json", access=ADMIN)
async def export_json(ctx: Ctx) -> Response:
    """The entries with their links, the signed checkpoints and the public key: a clinic's
    DPO verifies it offline with ``praxis audit verify --file`` (docs/privacy.md)."""
    await _record_download(ctx, "ledger_json")
    _, shown = await _filter(ctx)
    found = await _rows(ctx)
    header = offline.document_header(
        ctx.tenant.slug,
        ctx.tenant.id,
        ctx.rt.ledger_key.public,
        await checkpoints.signed(ctx.db),
        complete=not any(shown.values()),
    )

    async def chunks() -> AsyncIterator[str]:
        yield json.dumps(header)[:-1] + ', "events": ['
        first = True
        async for row in found:
            yield ("" if first else ",") + json.dumps(row)
            first = False
        yield "]}"

    return _download(chunks(), "application/json", f"ledger-{ctx.tenant.slug}.json")


async def _record_download(ctx: Ctx, operation: str) -> None:
    await staff_exports.record(
        ctx.rt.database,
        ctx.tenant,
        actor_id=ctx.me.id,
        operation=operation,
        categories=staff_exports.LEDGER,
        what="the ledger",
    )


def _cell(value: Any) -> Any:
    """Spreadsheets run cells starting with = + - @ as formulas; quote them as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _manual_page(ctx: Ctx, **extra: Any) -> Response:
    extra.setdefault("checked", [])  # the first time, no category is ticked
    return render(
        ctx,
        "admin/ledger_new.html",
        status=422 if extra.get("errors") else 200,
        categories=[c.value for c in DataCategory],
        words=ledger.CATEGORY_WORDS,
        title="Record a disclosure",
        **extra,
    )


@pages.page("/admin/ledger/new", access=ADMIN)
async def manual_form(ctx: Ctx) -> Response:
    return _manual_page(ctx)


def _by_field(errors: dict[str, str]) -> dict[str, str]:
    """One message per form field: "categories.1" (the second box ticked) is "categories"."""
    folded: dict[str, str] = {}
    for name, message in errors.items():
        folded.setdefault(name.split(".", 1)[0], message)
    return folded


@pages.page("/admin/ledger/new", methods=["POST"], access=ADMIN)
async def manual_record(ctx: Ctx) -> Response:
    raw: dict[str, Any] = dict(ctx.form)
    form_data = await ctx.request.form()
    raw["categories"] = [str(v) for v in form_data.getlist("categories")]
    values = {k: v for k, v in ctx.form.items() if k != "csrf_token"}
    try:
        form = parse(manual.ManualDisclosure, raw, region=ctx.region)
        seq = await manual.record_manual(ctx.db, form, actor=ctx.me)
    except InvalidInput as exc:
        return _manual_page(
            ctx,
            errors=_by_field(exc.fields),
            summary=exc.message,
            values=values,
            checked=raw["categories"],
        )
    await ctx.db.commit()
    return redirect(ctx, "/admin/ledger", notice=f"Recorded as entry {seq} of the ledger.")
