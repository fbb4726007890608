"""The ledger on screen: a consumer's "who received my data", the clinic's ledger for staff
(browse, filter, pages, CSV and JSON exports), and disclosures staff record by hand (P21)."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from praxis.core import ledger
from praxis.core.cli import main
from praxis.core.db import utcnow
from praxis.core.ledger import Entry, EventKind, LedgerEvent, RecipientKind, Status, checkpoints
from praxis.core.runtime import Runtime
from praxis.core.web.pages.ledger import COLUMNS
from tests.functional.flows import book_and_pay, events, signed_in
from tests.functional.test_pages_quality import check_page
from tests.provider_fixtures import RELAY_COMPANY, Providers
from tests.support import Clinic, count_rows, make_consumer, post_form

PRO_NAME = "Alpha.Pro Example"
GMC = "General Medical Council"


class Table(HTMLParser):
    """The cells of every body row of the page's table, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_body = self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1][-1] += data


def rows_of(page: str) -> list[list[str]]:
    table = Table()
    table.feed(page)
    return [[" ".join(cell.split()) for cell in row] for row in table.rows]


def seqs(page: str) -> list[int]:
    return [int(row[0]) for row in rows_of(page)]


def older_link(page: str) -> str | None:
    found = re.search(r'<a href="(/admin/ledger\?[^"]*)">Older entries</a>', page)
    return html.unescape(found.group(1)) if found else None


def manual(
    recipient: str,
    *,
    subject: Any = None,
    kind: RecipientKind = RecipientKind.BUYER,
    purpose: str = "sale of the business",
    reason: str = "completion",
) -> Entry:
    return Entry(
        kind=EventKind.DISCLOSURE,
        status=Status.RECORDED,
        recipient=recipient,
        recipient_kind=kind,
        operation="manual",
        categories=["name", "email"],
        purpose=purpose,
        legal_basis="legitimate interests",
        subject_id=subject,
        reason=reason,
    )


async def seed(rt: Runtime, clinic: Clinic, *entries: tuple[Entry, datetime | None]) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        for entry, at in entries:
            await ledger.append(db, entry, now=at)
        await db.commit()


# --- the consumer's own view -------------------------------------------------------------------


@pytest.mark.promise("P20")
async def test_who_received_my_data_lists_each_recipient_with_categories_and_outcome(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    providers.twilio.unsubscribe("+447911123456")  # the confirmation text will be refused
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await book_and_pay(consumer, clinic, providers, days_ahead=2)
    await providers.run_jobs()
    # Someone else's bookings are not in this person's list.
    someone = await make_consumer(rt, clinic.tenant, "alpha.someone")
    other = await signed_in(app, clinic, someone.username)
    await book_and_pay(other, clinic, providers, days_ahead=3)
    await providers.run_jobs()

    page = await consumer.get("/account/disclosures")
    assert page.status_code == 200
    check_page(page.text, "/account/disclosures")
    shown = sorted((row[1], row[2], row[4]) for row in rows_of(page.text))
    assert shown == sorted(
        [
            (
                f"{PRO_NAME} (Professional)",
                "your appointment's date and time, your name",
                "recorded",
            ),
            (
                "Stripe Payments Europe, Limited",
                "your appointment's date and time, your email address, "
                "the payment (amount, not your card)",
                "sent",
            ),
            (
                "Twilio Ireland Limited",
                "your appointment's date and time, your phone number",
                "not sent (failed)",
            ),
            # The relay company the clinic's email settings name (not the manifest's words).
            (RELAY_COMPANY, "your appointment's date and time, your email address", "sent"),
            (
                "Video Communication Services AS (Whereby)",
                "your appointment's date and time",
                "sent",
            ),
        ]
    ), shown
    assert "contract" in page.text  # the legal basis, beside the purpose
    # Staff and Professionals have no such page of their own here.
    pro = await signed_in(app, clinic, clinic.professional.username)
    assert (await pro.get("/account/disclosures")).status_code == 403


# --- the clinic's ledger for staff -------------------------------------------------------------


async def test_staff_browse_filter_and_page_through_the_ledger(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    buyer = "A&B Buyers Ltd"
    day = timedelta(days=1)
    today = utcnow()
    await seed(
        rt,
        clinic,
        *[(manual(buyer, reason=f"batch {n}"), today - 10 * day) for n in range(55)],
        (manual(GMC, subject=clinic.consumer.id, kind=RecipientKind.REGULATOR), today - 3 * day),
        (
            Entry(
                kind=EventKind.CONSENT,
                status=Status.RECORDED,
                recipient=clinic.tenant.name,
                recipient_kind=RecipientKind.OTHER,
                operation="sms_opt_out",
                categories=["phone"],
                purpose="appointment text messages",
                legal_basis="the person's own choice",
                subject_id=clinic.consumer.id,
                reason="reply STOP",
            ),
            today,
        ),
    )
    admin = await signed_in(app, clinic, clinic.admin.username)
    first = await admin.get("/admin/ledger")
    assert first.status_code == 200
    check_page(first.text, "/admin/ledger")
    assert seqs(first.text) == list(range(57, 7, -1))  # newest first, 50 to a page
    link = older_link(first.text)
    assert link is not None
    second = await admin.get(link)
    assert seqs(second.text) == list(range(7, 0, -1)) and older_link(second.text) is None

    async def shown(**query: str) -> list[int]:
        return seqs((await admin.get("/admin/ledger", params=query)).text)

    assert await shown(kind="consent") == [57]
    assert await shown(consumer="alpha.consumer") == [57, 56]
    assert await shown(consumer="ALPHA.CONSUMER") == [57, 56]
    assert await shown(consumer="nobody.here") == []
    assert await shown(recipient="Medical") == [56]
    local = clinic.tenant.zone
    on = (today - 3 * day).astimezone(local).date().isoformat()
    assert await shown(**{"from": on, "to": on}) == [56]
    assert await shown(**{"from": today.astimezone(local).date().isoformat()}) == [57]
    assert await shown(to=(today - 4 * day).astimezone(local).date().isoformat()) == list(
        range(55, 5, -1)
    )

    # A filter with characters that mean something in a URL survives the next page.
    filtered = await admin.get("/admin/ledger", params={"recipient": buyer, "kind": "disclosure"})
    assert seqs(filtered.text) == list(range(55, 5, -1))
    link = older_link(filtered.text)
    assert link is not None
    rest = await admin.get(link)
    assert seqs(rest.text) == list(range(5, 0, -1))
    assert "A&amp;B Buyers Ltd" in rest.text
    exports = re.findall(r'href="(/admin/ledger\.(?:csv|json)\?[^"]*)"', filtered.text)
    assert len(exports) == 2
    data = (await admin.get(html.unescape(exports[1]))).json()
    assert len(data["events"]) == 55 and {e["recipient"] for e in data["events"]} == {buyer}


async def test_exports_hold_every_column_honour_the_filter_and_defuse_formulas(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    await seed(
        rt,
        clinic,
        (manual('=HYPERLINK("http://evil.example")', purpose="+SUM(1,2)", reason="-1"), None),
        (manual("@Buyer Ltd", purpose="ordinary purpose", reason="@cmd"), None),
        (manual(GMC, subject=clinic.consumer.id, kind=RecipientKind.REGULATOR), None),
    )
    admin = await signed_in(app, clinic, clinic.admin.username)
    download = await admin.get("/admin/ledger.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    assert download.headers["cache-control"] == "no-store"
    table = list(csv.reader(io.StringIO(download.text)))
    assert tuple(table[0]) == COLUMNS
    body = [dict(zip(COLUMNS, row, strict=True)) for row in table[1:]]
    assert [row["seq"] for row in body] == ["1", "2", "3", "4"]
    taken = body[3]  # the download itself, recorded before the first byte left
    assert (taken["kind"], taken["operation"]) == ("export", "ledger_csv")
    assert taken["actor_id"] == str(clinic.admin.id)
    assert body[0]["recipient"] == '\'=HYPERLINK("http://evil.example")'
    assert body[0]["purpose"] == "'+SUM(1,2)" and body[0]["reason"] == "'-1"
    assert body[1]["recipient"] == "'@Buyer Ltd" and body[1]["reason"] == "'@cmd"
    assert body[2]["recipient"] == GMC and body[2]["subject_id"] == str(clinic.consumer.id)
    for row in body:
        assert not row["recipient"].startswith(("=", "+", "-", "@"))

    exported = await admin.get("/admin/ledger.json", params={"consumer": "alpha.consumer"})
    assert exported.status_code == 200
    data = exported.json()
    assert data["tenant"] == "alpha"
    (event,) = data["events"]
    assert set(event) == {*COLUMNS, "prev_hash"}  # the link, for offline verification
    stored = (await events(rt, clinic))[2]
    assert event["seq"] == 3 and event["hash"] == stored.hash
    assert event["recipient"] == GMC and event["recipient_kind"] == "regulator"
    assert event["subject_id"] == str(clinic.consumer.id) and event["categories"] == "email,name"
    assert datetime.fromisoformat(event["recorded_at"]).astimezone(UTC) == stored.recorded_at
    everything = (await admin.get("/admin/ledger.json")).json()["events"]
    assert everything[0]["recipient"] == '=HYPERLINK("http://evil.example")'  # JSON is data
    filtered_csv = await admin.get("/admin/ledger.csv", params={"recipient": "Medical"})
    assert len(list(csv.reader(io.StringIO(filtered_csv.text)))) == 2


# --- P21: disclosures made outside the software --------------------------------------------------


def disclosure_form(**changes: Any) -> dict[str, Any]:
    form = {
        "recipient": GMC,
        "recipient_kind": "regulator",
        "consumer": "alpha.consumer",
        "categories": ["name", "health"],
        "purpose": "fitness-to-practise investigation",
        "legal_basis": "legal obligation (UK GDPR Art. 6(1)(c))",
        "reason": "GMC request ref 2026/1234 of 12 November",
        "disclosed_on": utcnow().date().isoformat(),
    }
    form.update(changes)
    return form


@pytest.mark.promise("P21")
async def test_a_manual_disclosure_is_validated_field_by_field_and_records_nothing_when_wrong(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    page = await admin.get("/admin/ledger/new")
    assert page.status_code == 200
    check_page(page.text, "/admin/ledger/new")
    empty = {name: "" for name in disclosure_form() if name != "categories"}
    refused = await post_form(admin, "/admin/ledger/new", empty)
    assert refused.status_code == 422
    check_page(refused.text, "/admin/ledger/new")
    assert 'class="error-summary"' in refused.text
    for name in ("recipient", "purpose", "legal_basis", "reason", "disclosed_on"):
        assert f'id="f-{name}-error"' in refused.text, name
        assert f'href="#f-{name}"' in refused.text, name
    assert 'href="#f-categories"' in refused.text
    assert 'href="#f-recipient_kind"' in refused.text

    future = (utcnow() + timedelta(days=3)).date().isoformat()
    cases = [
        ({"consumer": "no.such.person"}, "consumer", "no consumer with that username"),
        ({"consumer": clinic.professional.username}, "consumer", "no consumer with that username"),
        ({"disclosed_on": future}, "disclosed_on", "cannot be in the future"),
        ({"categories": ["name", "shoe size"]}, "categories", ""),
        ({"recipient_kind": "friend"}, "recipient_kind", ""),
    ]
    for changes, field, words in cases:
        answer = await post_form(admin, "/admin/ledger/new", disclosure_form(**changes))
        assert answer.status_code == 422, changes
        assert f'href="#f-{field}"' in answer.text, changes
        assert words in html.unescape(answer.text), changes
        assert 'value="fitness-to-practise investigation"' in answer.text  # kept as typed
    assert await count_rows(rt, clinic, LedgerEvent) == 0


@pytest.mark.promise("P21")
async def test_a_manual_disclosure_to_a_regulator_is_in_the_ledger_and_the_consumers_history(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    recorded = await post_form(admin, "/admin/ledger/new", disclosure_form())
    assert recorded.status_code == 303, recorded.text
    assert recorded.headers["location"] == "/admin/ledger"
    page = await admin.get("/admin/ledger")
    assert "Recorded as entry 1 of the ledger." in page.text
    (row,) = rows_of(page.text)
    assert GMC in row[3] and "(regulator)" in row[3]
    assert row[4] == "health, name"
    assert "GMC request ref 2026/1234 of 12 November" in row[5]
    assert "fitness-to-practise investigation" in row[5]
    (event,) = await events(rt, clinic)
    assert (event.kind, event.status, event.operation) == ("disclosure", "recorded", "manual")
    assert event.subject_id == clinic.consumer.id and event.actor_id == clinic.admin.id
    assert event.recipient_kind == "regulator"
    assert event.reason.startswith("GMC request ref 2026/1234")

    consumer = await signed_in(app, clinic, clinic.consumer.username)
    mine = rows_of((await consumer.get("/account/disclosures")).text)
    assert len(mine) == 1
    assert mine[0][1] == GMC
    assert mine[0][2] == "health information, your name"
    assert "GMC request ref 2026/1234" in mine[0][3] and mine[0][4] == "recorded"


@pytest.mark.promise("P21")
async def test_the_sale_of_the_business_is_recorded_with_its_reason_for_every_consumer(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    sale = disclosure_form(
        recipient="Northern Clinics Group plc",
        recipient_kind="buyer",
        consumer="",
        categories=["name", "email", "phone", "address", "appointment", "health"],
        purpose="sale of the business",
        legal_basis="legitimate interests (UK GDPR Art. 6(1)(f))",
        reason="share purchase agreement of 1 March",
    )
    assert (await post_form(admin, "/admin/ledger/new", sale)).status_code == 303
    (row,) = rows_of((await admin.get("/admin/ledger")).text)
    assert "(buyer)" in row[3] and row[6] == "everyone"
    assert "share purchase agreement of 1 March" in row[5]
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    (mine,) = rows_of((await consumer.get("/account/disclosures")).text)
    assert mine[1] == "Northern Clinics Group plc"
    assert "share purchase agreement of 1 March" in mine[3]
    # Someone who joins afterwards was not part of it.
    later = await make_consumer(rt, clinic.tenant, "alpha.newcomer")
    newcomer = await signed_in(app, clinic, later.username)
    assert rows_of((await newcomer.get("/account/disclosures")).text) == []


async def test_only_clinic_admins_see_the_ledger_and_record_disclosures(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    for who in (clinic.consumer.username, clinic.professional.username):
        client = await signed_in(app, clinic, who)
        for path in (
            "/admin/ledger",
            "/admin/ledger.csv",
            "/admin/ledger.json",
            "/admin/ledger/new",
        ):
            assert (await client.get(path)).status_code == 403, (who, path)
        refused = await post_form(client, "/admin/ledger/new", disclosure_form(), page="/account")
        assert refused.status_code == 403
    assert await count_rows(rt, clinic, LedgerEvent) == 0


@pytest.mark.promise("P20")
async def test_a_clinics_json_download_verifies_offline_and_an_edit_is_named(
    app: Any, rt: Runtime, clinic: Clinic, tmp_path: Path
) -> None:
    await seed(
        rt,
        clinic,
        *[(manual(f"Regulator {n}", subject=clinic.consumer.id), None) for n in range(3)],
    )
    async with rt.database.writing(clinic.tenant.id) as db:  # as the worker's daily scan does
        assert await checkpoints.sign_head(db, rt.ledger_key) is not None
        await db.commit()
    admin = await signed_in(app, clinic, clinic.admin.username)
    whole = (await admin.get("/admin/ledger.json")).json()
    filtered = (await admin.get("/admin/ledger.json", params={"kind": "disclosure"})).json()
    assert whole["public_key"]["key"] == rt.ledger_key.public.text
    assert [c["seq"] for c in whole["checkpoints"]] == [3]
    assert rt.ledger_key.public.key_id in (await admin.get("/admin/ledger")).text

    def verify(document: dict[str, Any], *extra: str) -> Result:
        path = tmp_path / "ledger.json"
        path.write_text(json.dumps(document))
        return CliRunner().invoke(main, ["audit", "verify", "--file", str(path), *extra], env={})

    good = verify(whole, "--public-key", rt.ledger_key.public.text)
    assert good.exit_code == 0, good.output
    # three disclosures and the download itself, recorded before its first byte
    assert good.output.startswith(f"OK      {clinic.tenant.slug}: 4 entries, chain intact, ")
    assert f"1 signed checkpoints verify with key {rt.ledger_key.public.key_id}" in good.output
    whole["events"][1]["purpose"] = "marketing"
    edited = verify(whole)
    assert edited.exit_code == 1
    assert "BROKEN" in edited.output and "entry 2 was changed after it was written" in edited.output
    refused = verify(filtered)
    assert refused.exit_code == 2 and "this download was filtered" in refused.output
    other = base64.b64encode(b"k" * 32).decode()
    stranger = verify(filtered | {"complete": True}, "--public-key", other)
    assert stranger.exit_code == 2 and "is not the one you gave" in stranger.output
