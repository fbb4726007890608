"""A real browser: a patient uses every privacy right the portal offers, start to finish.

The consumer reads the clinic's notice at registration, acknowledges a new version, withdraws
marketing by text, corrects the phone, books and pays, downloads their data and deletes their
account; afterwards a campaign does not reach them, their payment stays under a pseudonym and
the ledger verifies. Then the clinic counts visits: a new visitor is offered Accept and Reject
alike, and only after accepting gets the analytics cookie and is counted (P08). Served
exactly as `test_browser.py` serves the demo (its fixtures, reused).
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import uuid
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.test_browser import (  # noqa: F401 (fixtures, found by pytest by name)
    CHROMIUM,
    FLAGS,
    PRAXIS,
    _env,
    _until,
    portal,
    portal_var,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium (apt-get install chromium); CI installs and requires it",
    ),
]

PASSWORD = "a-long-privacy-password"
OLD_PHONE, NEW_PHONE = "07911 123477", "07911 123466"


def _one(var: Path, sql: str, *args: Any) -> Any:
    with sqlite3.connect(var / "praxis.db") as db:
        return db.execute(sql, args).fetchone()


def _opted_in(staff: Any, label: str) -> int:
    """The audience count a clinic admin reads on the marketing page, for one channel."""
    staff.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    staff.get_by_role("link", name="Marketing").click()
    line = staff.get_by_role("listitem").filter(has_text=re.compile(rf"^{re.escape(label)}:"))
    found = re.search(r"(\d+) (?:person|people) opted in", line.inner_text())
    assert found, line.inner_text()
    return int(found.group(1))


def _consent(page: Any, label: str) -> Any:
    """The row of one consent under Privacy and consents, found by what the person reads."""
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(label)))


def _publish(staff: Any, addition: str) -> None:
    """A clinic admin publishes the notice, with ``addition`` at its end, effective today."""
    staff.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy").click()
    staff.get_by_role(
        "link", name=re.compile("^(Write a new version|Edit the draft) of the notice$")
    ).click()
    source = staff.get_by_label("The notice")
    source.fill(source.input_value() + addition)
    today = datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    staff.get_by_label("Takes effect on").fill(today)
    staff.get_by_role("button", name="Publish").click()
    expect(staff.get_by_role("status").first).to_contain_text("of the notice is published")


def _count_visits(staff: Any) -> None:
    """The clinic admin ticks the analytics switch on the Privacy page."""
    staff.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy").click()
    staff.get_by_label("Count visits to the portal (analytics cookies)").check()
    staff.get_by_role("button", name="Save privacy details").click()
    saved = staff.get_by_role("status").first  # then "A new version is due": it is
    expect(saved).to_contain_text("Saved: count visits to the portal")


def _choose_cookies(page: Any, choice: str) -> None:
    """The region labelled Cookies offers both choices as equals: same size, same look."""
    region = page.get_by_role("region", name="Cookies")
    expect(region).to_be_visible()
    accept = region.get_by_role("button", name="Accept analytics cookies")
    reject = region.get_by_role("button", name="Reject analytics cookies")
    sizes = [button.bounding_box() for button in (accept, reject)]
    assert all(sizes) and sizes[0]["width"] == sizes[1]["width"]  # type: ignore[index]
    assert sizes[0]["height"] == sizes[1]["height"]  # type: ignore[index]
    look = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).fontSize]"
    assert accept.evaluate(look) == reject.evaluate(look)
    assert "praxis_visitor" not in {c["name"] for c in page.context.cookies()}
    region.get_by_role("button", name=choice).click()


def _account(page: Any, link: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    page.get_by_role("link", name=link, exact=True).click()


@pytest.mark.promise("P37")
@pytest.mark.promise("P08")
@pytest.mark.promise("P35")
@pytest.mark.promise("P32")
@pytest.mark.promise("P31")
@pytest.mark.promise("P33")
@pytest.mark.promise("P30")
def test_a_patient_uses_every_privacy_right_in_a_browser(
    portal: str,  # noqa: F811 (the fixture imported above)
    portal_var: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(15_000)
            staff = browser.new_context().new_page()
            staff.set_default_timeout(15_000)

            # The clinic publishes its first notice, through its admin pages.
            staff.goto(f"{portal}/login")
            staff.get_by_label("Username").fill("admin")
            staff.get_by_label("Password").fill("demo-admin-pass")
            staff.get_by_role("button", name="Sign in").click()
            _publish(staff, "")

            # Registration names the clinic's notice: who the controller is, and the ICO.
            page.goto(portal)
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Register").click()
            page.get_by_role("link", name="Riverside Health Clinic's privacy notice").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Privacy notice")
            main = page.locator("main")
            expect(main).to_contain_text("Riverside Health Ltd")
            expect(main).to_contain_text("ZA123456")  # its ICO registration number
            expect(main).to_contain_text("Information Commissioner's Office")
            expect(main).to_contain_text(re.compile(r"Version 1, last updated"))
            page.go_back()
            page.get_by_label("Full name").fill("Pat Privacy")
            page.get_by_label("Username").fill("pat")
            page.get_by_label("Email address").fill("pat@example.org")
            page.get_by_label("Mobile phone number").fill(OLD_PHONE)
            page.get_by_label("Address line 1").fill("3 Privacy Lane")
            page.get_by_label("Town or city").fill("Leeds")
            page.get_by_label("Postcode").fill("ls1 4ap")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Create account").click()
            expect(page.get_by_role("status")).to_contain_text("Your account is ready")
            pat_id = uuid.UUID(_one(portal_var, "SELECT id FROM users WHERE username='pat'")[0])

            # The clinic publishes a new version of its notice: the patient's banner follows.
            _publish(staff, "\n\n## Changes\n\nWe now offer video sessions.\n")

            # The patient sees the banner until they acknowledge it, then no more.
            page.reload()
            banner = page.get_by_role("complementary").filter(
                has=page.get_by_role("heading", name="Our privacy notice has changed")
            )
            expect(banner).to_be_visible()
            banner.get_by_role("link", name="Read what changed").click()
            expect(page.locator("main")).to_contain_text("added: We now offer video sessions.")
            banner.get_by_role("button", name="I have read it").click()
            expect(page.get_by_role("status")).to_contain_text("you read the new notice")
            page.reload()
            changed = page.get_by_role("heading", name="Our privacy notice has changed")
            expect(changed).to_have_count(0)
            page.get_by_role("contentinfo").get_by_role("link", name="Privacy notice").click()
            expect(page.locator("main")).to_contain_text("Version 2, last updated")
            page.get_by_role("link", name="Version 1", exact=True).click()  # still readable
            expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")
            assert _one(
                portal_var,
                "SELECT count(*) FROM privacy_notice_acknowledgements WHERE user_id = ?",
                pat_id.hex,
            ) == (1,)

            # Marketing: opted in on both channels, then text withdrawn in one step; the
            # clinic's audience for texts no longer counts them, for email it still does.
            texts_before = _opted_in(staff, "Text message (SMS)")
            emails_before = _opted_in(staff, "Email")
            _account(page, "Privacy and consents")
            for label in ("News and offers by text", "News and offers by email"):
                _consent(page, label).get_by_role("button", name="Give consent").click()
                expect(_consent(page, label)).to_contain_text("Given")
            assert _opted_in(staff, "Text message (SMS)") == texts_before + 1
            _consent(page, "News and offers by text").get_by_role("button", name="Withdraw").click()
            expect(_consent(page, "News and offers by text")).to_contain_text("Not given")
            assert _opted_in(staff, "Text message (SMS)") == texts_before
            assert _opted_in(staff, "Email") == emails_before + 1

            # Correcting the phone asks for the password; without it nothing changes.
            _account(page, "Correct my details")
            page.get_by_label("Mobile phone number").fill(NEW_PHONE)
            page.get_by_role("button", name="Save my details").click()
            expect(page.get_by_role("alert")).to_contain_text("Enter your current password")
            assert _one(portal_var, "SELECT phone FROM users WHERE id = ?", pat_id.hex) == (
                "+447911123477",
            )
            page.get_by_label("Mobile phone number").fill(NEW_PHONE)
            page.get_by_label("Current password").fill(PASSWORD)
            page.get_by_role("button", name="Save my details").click()
            expect(page.get_by_role("status")).to_contain_text("Your details are corrected")
            expect(page.locator("main")).to_contain_text("+447911123466")
            corrected = _one(
                portal_var,
                "SELECT count(*) FROM ledger_events WHERE operation = 'rectification' "
                "AND subject_id = ? AND categories LIKE '%phone%'",
                pat_id.hex,
            )
            assert corrected == (1,)  # the correction is recorded

            # Book and pay a consultation on the sandbox's hosted checkout.
            page.get_by_role("navigation", name="Main").get_by_role(
                "link", name="Professionals"
            ).click()
            page.get_by_role("link", name="Dr Sam Rivera").click()
            page.get_by_role("link", name="See free times for First consultation").click()
            page.locator("section.day").nth(1).get_by_role("link").first.click()
            page.get_by_role("button", name="Confirm booking").click()
            expect(page.get_by_role("heading", name="Pay for your appointment")).to_be_visible()
            page.get_by_role("link", name="Continue to the secure payment page").click()
            expect(page.get_by_text("Sandbox: no real money")).to_be_visible()
            page.get_by_role("button", name=re.compile("^Pay")).click()
            expect(page).to_have_url(re.compile(r"/appointments/[0-9a-f-]{36}\?paid=1"))
            _until(page, lambda: "confirmed" in page.locator("main").inner_text())

            # Download my data: one ZIP, readable, for computers, and in FHIR.
            _account(page, "Download my data")
            page.get_by_role("button", name="Prepare my download").click()
            download_link = page.get_by_role("link", name=re.compile(r"^Download my data \("))
            _until(page, lambda: download_link.count() > 0)
            with page.expect_download() as arrived:
                download_link.click()
            archive = tmp_path / "my-data.zip"
            arrived.value.save_as(archive)
            with zipfile.ZipFile(archive) as zipped:
                assert {"data.json", "fhir.json", "summary.html"} <= set(zipped.namelist())
                data = zipped.read("data.json").decode()
                fhir = json.loads(zipped.read("fhir.json"))
                summary = zipped.read("summary.html").decode()
            assert "Pat Privacy" in data and "+447911123466" in data  # the corrected phone
            assert "marketing" in data  # the consents are in it
            assert "Stripe" in data  # and who received their data
            assert fhir["resourceType"] == "Bundle"
            kinds = {entry["resource"]["resourceType"] for entry in fhir["entry"]}
            assert {"Patient", "Appointment"} <= kinds
            assert "Pat Privacy" in summary

            # Delete my account and data, with the password.
            _account(page, "Delete my account and data")
            warning = page.locator("main")
            expect(warning).to_contain_text("you can no longer sign in")
            expect(warning).to_contain_text("cancels your 1 upcoming booking")
            page.get_by_label("Your password").fill(PASSWORD)
            page.get_by_role("button", name="Delete my account and data").click()
            expect(page.get_by_role("status")).to_contain_text(
                "Your account and your data have been deleted"
            )

            # A campaign by email, which they had agreed to, no longer reaches them.
            assert _opted_in(staff, "Email") == emails_before
            staff.get_by_label("Email", exact=True).check()
            staff.get_by_label(re.compile("^Subject")).fill("Winter opening hours")
            staff.get_by_label("Message", exact=True).fill("We are open on Saturdays all winter.")
            staff.get_by_role("button", name="Preview").click()
            staff.get_by_role("button", name=re.compile("^Send to")).click()
            expect(staff.get_by_role("status")).to_contain_text("Your message is being sent")

            # The clinic counts visits: a new visitor is asked, Accept and Reject alike.
            _count_visits(staff)
            visitor = browser.new_context().new_page()
            visitor.set_default_timeout(15_000)
            visitor.goto(f"{portal}/professionals")
            _choose_cookies(visitor, "Reject analytics cookies")
            expect(visitor.get_by_role("status")).to_contain_text("You rejected analytics cookies")
            expect(visitor.get_by_role("heading", level=1)).to_contain_text("Professionals")
            expect(visitor.get_by_role("region", name="Cookies")).to_have_count(0)
            visitor.get_by_role("contentinfo").get_by_role("link", name="Cookies").click()
            visitor.get_by_role("button", name="Accept analytics cookies").click()
            expect(visitor.get_by_role("status")).to_contain_text("You accepted analytics cookies")
            visitor.get_by_role("navigation", name="Main").get_by_role(
                "link", name="Professionals"
            ).click()
            assert "praxis_visitor" in {c["name"] for c in visitor.context.cookies()}
            staff.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
            staff.get_by_role("link", name="Visits", exact=True).click()
            expect(staff.get_by_role("heading", level=1)).to_have_text("Visits")
            expect(staff.get_by_role("table", name="Most viewed pages")).to_contain_text(
                "/professionals"
            )
        finally:
            browser.close()

    # Nothing queued for them, nothing sent to them, nothing of them left but the pseudonym.
    assert _one(portal_var, "SELECT count(*) FROM marketing_campaigns") == (1,)
    assert _one(
        portal_var,
        "SELECT count(*) FROM outbox_jobs WHERE topic = 'marketing.send' AND payload LIKE ?",
        f"%{pat_id}%",
    ) == (0,)
    assert _one(
        portal_var,
        "SELECT count(*) FROM sent_messages WHERE template = 'campaign' AND recipient_id = ?",
        pat_id.hex,
    ) == (0,)
    username, name, email, phone = _one(
        portal_var, "SELECT username, full_name, email, phone FROM users WHERE id = ?", pat_id.hex
    )
    assert username.startswith("erased-")
    assert "Pat" not in name and "pat@" not in email and "123466" not in phone
    paid = _one(portal_var, "SELECT count(*) FROM payments WHERE consumer_id = ?", pat_id.hex)
    assert paid == (1,)  # the billing record stays for tax, under the pseudonym

    erased = _one(
        portal_var,
        "SELECT count(*) FROM ledger_events WHERE subject_id = ? AND operation LIKE '%eras%'",
        pat_id.hex,
    )
    assert erased[0] >= 1  # the ledger records the erasure (ids and categories only)

    audit = subprocess.run(
        [PRAXIS, "audit", "verify"],
        env=_env(portal_var),
        capture_output=True,
        text=True,
        check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert audit.stdout.startswith("OK")
