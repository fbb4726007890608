"""A clinic's life in a real browser, by visible labels and roles only, with axe-core on every
page at desktop width and at 390 px, and a screenshot of each step (tests/e2e/axe.py).

An operator onboards a clinic; its first admin accepts the emailed invitation and brands the
clinic (preview, save, logo). The admin invites a Professional and a front-desk colleague, who
each accept their emailed invitation with their own username and password; the Professional
sets weekly hours and a consultation, the admin approves the profile, and the front desk keeps
a record for a patient who phones (no portal account) and books them with the Professional,
whose day then shows it. The admin sets up staff sign-in through the clinic's OpenID provider
(tests/oidc_provider.py, served on 127.0.0.1), then signs in through it. At the demo clinic a
patient books through the review step and moves the appointment, and the Professional's week
shows it; the Professional adds a photo the patient then sees. One server for the whole
journey, as `make run` starts it; staff two-step sign-in is off there, as in every browser
test (tests/e2e/test_browser.py `_env`).
"""

from __future__ import annotations

import email
import io
import mailbox
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import getaddresses
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from playwright.sync_api import expect

from praxis.core.sandbox.harness import start
from tests.e2e.axe import Inspector, axe_source, needs_axe, screenshots_folder
from tests.e2e.test_browser import (
    CHROMIUM,
    FLAGS,
    PRAXIS,
    _env,
    _sqlite_time,
    desktop_browser,
    serve,
)
from tests.e2e.test_browser import pytestmark as browser_marks
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OpenIdProvider
from tests.provider_fixtures import arrival

pytestmark = [*browser_marks, needs_axe]  # CI requires both (PRAXIS_REQUIRE_BROWSER)

ADMIN_EMAIL = "jo@north.example"
ADMIN_PASSWORD = "a-long-north-admin-password"
PRO_NAME, PRO_EMAIL = "Dr Priya Shah", "priya@north.example"
DESK_NAME, DESK_EMAIL = "Ola Brown", "ola@north.example"
STAFF_PASSWORD = "a-long-north-staff-password"
PHONE_PATIENT = "Morgan Lee"


@pytest.fixture(scope="module")
def journey_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("journey")


@pytest.fixture(scope="module")
def axe_js() -> str:
    return axe_source()  # before the server starts: without axe-core there is no journey


@pytest.fixture(scope="module")
def site(axe_js: str, journey_var: Path) -> Iterator[str]:
    """The demo, served with what the journey needs: the local OpenID provider on 127.0.0.1 is
    reachable, settings set by the command line are read at once, and a job that found no
    email settings yet retries within a second."""
    with serve(
        journey_var,
        OUTBOUND_ALLOWED_HOSTS="127.0.0.1",
        TENANT_CACHE_TTL="0",
        OUTBOX_BACKOFF_SECONDS="0.2",
        OUTBOX_BACKOFF_CAP_SECONDS="1",
    ) as url:
        yield url


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[OpenIdProvider, str]]:
    op = OpenIdProvider(email=ADMIN_EMAIL)
    running = start(op.app)
    try:
        yield op, running.url
    finally:
        running.stop()


def _sign_in(page: Any, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _invitation_link(folder: Path, to: str, seconds: float = 30) -> str:
    """The link in the newest invitation email to ``to``, as the clinic's email plugin wrote it
    to its Maildir (a retried job sends a new link and the older one stops working)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if folder.exists():
            box = mailbox.Maildir(folder, create=False)
            for key in sorted(box.keys(), key=arrival, reverse=True):
                message = email.message_from_bytes(box.get_bytes(key))
                if to not in [address for _, address in getaddresses(message.get_all("To", []))]:
                    continue
                for part in message.walk():
                    body = part.get_payload(decode=True)
                    if isinstance(body, bytes):
                        found = re.search(r"http://\S+/invitation\?token=[\w-]+", body.decode())
                        if found:
                            return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no invitation email to {to} in {folder}")


def _try_the_invitation_again(var: Path, seconds: float = 15) -> None:
    """The invitation job ran before the clinic had email settings, and a provider without
    settings is not retried (the outbox dead-letters ProviderNotReady at once), while the
    clinic has no admin yet to press "Try again" on /admin/outbox: do what that button does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with sqlite3.connect(var / "praxis.db") as db:
            (status,) = db.execute(
                "SELECT status FROM outbox_jobs WHERE topic = 'accounts.staff_invitation'"
            ).fetchone()
            if status == "dead":
                db.execute(
                    "UPDATE outbox_jobs SET status = 'pending', attempts = 1, run_after = ?, "
                    "finished_at = NULL WHERE topic = 'accounts.staff_invitation'",
                    (_sqlite_time(datetime.now(UTC)),),
                )
            if status in ("dead", "done"):
                return
        time.sleep(0.2)
    raise AssertionError(f"the invitation job is still {status}")


def _logo(folder: Path) -> Path:
    path = folder / "logo.png"
    image = Image.new("RGB", (64, 64), (11, 110, 79))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _invite(admin: Any, full_name: str, address: str, role: str) -> None:
    admin.get_by_label("Full name").fill(full_name)
    admin.get_by_label("Email address").fill(address)
    admin.get_by_label(role, exact=True).check()  # a radio button per role, as the page names it
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.get_by_role("status")).to_contain_text(f"{full_name} was emailed an invitation")


def _join(page: Any, link: str, username: str, check: Inspector, as_role: str) -> None:
    """Accept a staff invitation with one's own username and password, then sign in."""
    page.goto(link)
    expect(page.get_by_role("main")).to_contain_text(f"you are invited as {as_role}")
    check.look(page, f"Accept the invitation as {as_role}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    page.get_by_label("Password again").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("status")).to_contain_text("your account is ready")
    _sign_in(page, username, STAFF_PASSWORD)


def _the_team_books_a_phone_patient(
    fresh: Callable[[], Any], admin: Any, mail: Path, check: Inspector
) -> None:
    """The admin invites a Professional and a front-desk colleague; each joins; the
    Professional offers hours and a consultation, the admin approves the profile, and the
    front desk books a patient who phones; the Professional's day shows the booking."""
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Staff").click()
    expect(admin.get_by_role("heading", name="Invite a colleague")).to_be_visible()
    _invite(admin, PRO_NAME, PRO_EMAIL, "Professional")
    _invite(admin, DESK_NAME, DESK_EMAIL, "front desk")
    waiting = admin.get_by_role("region", name="Invitations waiting to be accepted")
    expect(waiting.get_by_role("row")).to_have_count(3)  # the heading row and one each
    expect(waiting).to_contain_text(PRO_NAME)
    expect(waiting).to_contain_text(DESK_NAME)
    check.look(admin, "Staff with two invitations out")

    # The Professional joins and sets up what patients book: weekly hours and a consultation.
    pro = fresh()
    _join(pro, _invitation_link(mail, PRO_EMAIL), "priya.shah", check, "Professional")
    expect(pro.get_by_role("status")).to_contain_text("waiting for the clinic's approval")
    check.look(pro, "The new Professional's workspace")
    day = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date() + timedelta(days=2)
    menu = pro.get_by_role("navigation", name="Main")
    menu.get_by_role("link", name="Hours").click()
    weekly = pro.get_by_role("region", name="Every week")
    weekly.get_by_label("Day").select_option(label=f"{day:%A}")
    weekly.get_by_label("From").fill("09:00")
    weekly.get_by_label("To").fill("17:00")
    weekly.get_by_role("button", name="Add hours").click()
    expect(pro.get_by_role("status")).to_contain_text("Weekly hours added")
    expect(weekly).to_contain_text(f"{day:%A} 09:00 to 17:00")
    check.look(pro, "Weekly hours")
    menu.get_by_role("link", name="Consultations").click()
    pro.get_by_label("Name", exact=True).fill("Follow-up")
    pro.get_by_label("Length in minutes").fill("30")
    pro.get_by_label("Price").fill("40.00")
    pro.get_by_label("In person").check()
    pro.get_by_role("button", name="Add consultation").click()
    expect(pro.get_by_role("status")).to_contain_text("Consultation added")
    expect(pro.get_by_role("row", name=re.compile("^Follow-up"))).to_contain_text("In person")
    check.look(pro, "Consultations offered")

    # The admin approves the profile, where the admin's pages list it as waiting.
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Professionals").click()
    waiting = admin.get_by_role("region", name="Waiting for approval")
    check.look(admin, "Professionals waiting for approval")
    waiting.get_by_role("row", name=PRO_NAME).get_by_role("button", name="Approve").click()
    expect(admin.get_by_role("status")).to_contain_text(f"{PRO_NAME} is approved")
    expect(admin.get_by_role("region", name="Approved")).to_contain_text(PRO_NAME)

    # The front desk joins and books a patient who phones, with no portal account.
    desk = fresh()
    _join(desk, _invitation_link(mail, DESK_EMAIL), "ola.brown", check, "front desk")
    expect(desk.get_by_role("heading", name="Patients", exact=True)).to_be_visible()
    check.look(desk, "The front desk's patients")
    desk.get_by_role("link", name="New patient record").click()
    check.look(desk, "New patient record")
    desk.get_by_label("Full name").fill(PHONE_PATIENT)
    desk.get_by_label("Phone number").fill("07911 123456")
    desk.get_by_role("button", name="Keep the record").click()
    expect(desk.get_by_role("status")).to_contain_text("They have no portal account")
    check.look(desk, "The phone patient's record")
    desk.get_by_label("Consultation").select_option(label=f"{PRO_NAME}: Follow-up, 30 minutes")
    desk.get_by_label("Date", exact=True).fill(day.isoformat())
    desk.get_by_label("Time", exact=True).fill("10:00")
    desk.get_by_role("button", name="Book", exact=True).click()
    expect(desk.get_by_role("status")).to_contain_text(f"Booked for {PHONE_PATIENT}")
    booked = desk.get_by_role("region", name="Appointments")
    expect(booked).to_contain_text(f"Follow-up with {PRO_NAME}")
    check.look(desk, "Booked for the phone patient")

    # The Professional's day shows it.
    menu.get_by_role("link", name="Diary").click()
    pro.get_by_label("Go to date").fill(day.isoformat())
    pro.get_by_label("Show", exact=True).select_option(label="The day")
    pro.get_by_role("button", name="Show", exact=True).click()
    heading = f"{day:%a} {day.day} {day:%b %Y}"  # as the diary heads a day
    booked_day = pro.get_by_role("region", name=re.compile(f"^{heading}"))
    expect(booked_day).to_contain_text(f"{PHONE_PATIENT}, Follow-up")
    check.look(pro, "The new Professional's day")


def test_a_clinic_is_onboarded_branded_booked_and_signed_into(
    site: str,
    journey_var: Path,
    provider: tuple[OpenIdProvider, str],
    axe_js: str,
    tmp_path: Path,
) -> None:
    check = Inspector(axe_js, screenshots_folder(tmp_path))
    port = site.rsplit(":", 1)[1]
    platform, north = f"http://localhost:{port}", f"http://north.localhost:{port}"
    op, op_url = provider
    with desktop_browser() as fresh:
        # The operator onboards North Clinic in the browser.
        ops = fresh()
        ops.goto(f"{platform}/platform/login")
        check.look(ops, "Platform sign-in")
        _sign_in(ops, "operator", "demo-operator-pass")
        ops.goto(f"{platform}/platform/tenants/new")
        expect(ops.get_by_role("heading", name="Onboard a clinic")).to_be_visible()
        check.look(ops, "Onboard a clinic")
        ops.get_by_label("Clinic name").fill("North Clinic")
        ops.get_by_label("Web address (slug)").fill("north")
        ops.get_by_label("Time zone").select_option("Europe/London")
        ops.get_by_label("Email provider").select_option(label="Email (SMTP)")
        ops.get_by_label("Full name").fill("Jo North")
        ops.get_by_label("Email", exact=True).fill(ADMIN_EMAIL)
        ops.get_by_label("Legal name").fill("North Clinic Ltd")
        ops.get_by_label("Registered address").fill("1 High Street, Leeds LS1 1AA")
        ops.get_by_label("Data protection contact (email)").fill("dpo@north.example")
        ops.get_by_label("ICO registration number").fill("ZA123456")
        ops.get_by_role("button", name="Onboard the clinic").click()
        expect(ops.locator("main")).to_contain_text("1 waiting to be accepted")
        check.look(ops, "The clinic's platform page")

        # The clinic's email settings (its own fields: the command line, as README says);
        # the invitation then leaves, into the development Maildir.
        mail = journey_var / "north-mail"
        subprocess.run(
            [
                PRAXIS,
                "providers",
                "set",
                "--tenant",
                "north",
                "email_smtp",
                "from_address=hello@north.example",
                f"mailbox_dir={mail}",
                "relay_company=North Relay Ltd",
                "relay_privacy_policy_url=https://relay.example/privacy",
            ],
            env=_env(journey_var),
            check=True,
            timeout=60,
        )
        _try_the_invitation_again(journey_var)
        link = _invitation_link(mail, ADMIN_EMAIL)
        assert link.startswith(f"{north}/invitation?token=")

        # The first admin accepts it and chooses their own credentials.
        admin = fresh()
        admin.goto(link)
        expect(admin.get_by_role("heading", name="Join North Clinic")).to_be_visible()
        check.look(admin, "Accept the invitation")
        admin.get_by_label("Username").fill("jo.north")
        admin.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
        admin.get_by_label("Password again").fill(ADMIN_PASSWORD)
        admin.get_by_role("button", name="Create my account").click()
        expect(admin.get_by_role("status")).to_contain_text("your account is ready")
        _sign_in(admin, "jo.north", ADMIN_PASSWORD)

        # Branding: preview, save, then a logo.
        admin.goto(f"{north}/admin/branding")
        check.look(admin, "Branding")
        admin.get_by_label("Main colour").fill("#1d4e89")
        admin.get_by_label("Accent colour").fill("#b3541e")
        admin.get_by_label("Tagline").fill("Care in the north")
        admin.get_by_role("button", name="Preview").click()
        expect(admin.get_by_role("region", name="Preview")).to_be_visible()
        check.look(admin, "Branding preview")
        admin.get_by_role("button", name="Save branding").click()
        expect(admin.get_by_role("status")).to_be_visible()
        admin.get_by_label("Logo").set_input_files(_logo(tmp_path))
        admin.get_by_role("button", name="Upload logo").click()
        expect(admin.get_by_role("button", name="Remove logo")).to_be_visible()
        check.look(admin, "Branding with a logo")
        admin.goto(north)
        expect(admin.locator("main")).to_contain_text("Care in the north")
        check.look(admin, "The branded home page")

        # The team: a Professional and a front-desk colleague join; a phone booking.
        _the_team_books_a_phone_patient(fresh, admin, mail, check)

        # Staff sign-in through the clinic's OpenID provider.
        admin.goto(f"{north}/admin/sign-in")
        check.look(admin, "Staff sign-in settings")
        admin.get_by_label(re.compile("issuer", re.I)).fill(op_url)
        admin.get_by_label(re.compile("client id", re.I)).fill(CLIENT_ID)
        admin.get_by_label(re.compile("client secret", re.I)).fill(CLIENT_SECRET)
        admin.get_by_label(re.compile("email domain", re.I)).fill("north.example")
        admin.get_by_role("checkbox").check()
        admin.get_by_role("button", name="Save staff sign-in").click()
        expect(admin.locator("main")).to_contain_text("switched on")
        staff = fresh()
        staff.goto(f"{north}/login")
        check.look(staff, "Sign-in with the organisation's account offered")
        offered = "Staff: sign in with your organisation's account"
        staff.get_by_role("link", name=offered).click()
        expect(staff.get_by_role("navigation", name="Main")).to_contain_text("Admin")
        check.look(staff, "Signed in through the provider")
        assert op.tokens_issued == 1

        # At the demo clinic, a patient books through the review step, then moves it.
        patient = fresh()
        patient.goto(f"{site}/login")
        _sign_in(patient, "alex", "demo-consumer-pass")
        patient.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Professionals"
        ).click()
        check.look(patient, "Professionals")
        patient.get_by_role("link", name="Dr Sam Rivera").click()
        patient.get_by_role("link", name="See free times for First consultation").click()
        check.look(patient, "Free times")
        days = patient.get_by_role("main").get_by_role("region")  # one per day, by its heading
        days.nth(1).get_by_role("link").first.click()
        expect(
            patient.get_by_role("heading", name="Check and confirm your booking")
        ).to_be_visible()
        check.look(patient, "Review the booking")
        patient.get_by_role("button", name="Confirm booking").click()
        expect(patient.get_by_role("heading", name="Pay for your appointment")).to_be_visible()
        check.look(patient, "Pay for the appointment")
        found = re.search(r"/appointments/([0-9a-f-]{36})", patient.url)
        assert found
        patient.goto(f"{site}/appointments/{found.group(1)}")
        patient.get_by_role("link", name="Move to another time").click()
        expect(patient.get_by_role("heading", name="Move your appointment")).to_be_visible()
        check.look(patient, "Move the appointment")
        day = patient.get_by_role("main").get_by_role("region").nth(2)
        when = date.fromisoformat(day.locator("[name=starts_at]").first.input_value()[:10])
        day.get_by_role("button").first.click()
        expect(patient.get_by_role("status").first).to_contain_text("appointment is moved to")
        check.look(patient, "The moved appointment")

        # The Professional's week shows it, on the day it moved to.
        pro = fresh()
        pro.goto(f"{site}/login")
        _sign_in(pro, "dr.rivera", "demo-professional-pass")
        pro.goto(f"{site}/workspace/diary?view=week&date={when.isoformat()}")
        heading = f"{when:%a} {when.day} {when:%b %Y}"  # as the diary heads a day
        moved_day = pro.get_by_role("region", name=re.compile(f"^{heading}"))
        expect(moved_day).to_contain_text("Alex Morgan, First consultation")
        check.look(pro, "The Professional's week")

        # The Professional adds a photo; patients see it beside the name, not broken.
        pro.goto(f"{site}/workspace/photo")
        check.look(pro, "The Professional's photo, none yet")
        pro.get_by_label("Photo", exact=True).set_input_files(_logo(tmp_path))
        pro.get_by_role("button", name="Upload photo").click()
        expect(pro.get_by_role("img", name="Your current photo")).to_be_visible()
        check.look(pro, "The Professional's photo")
        patient.goto(f"{site}/professionals")
        shown = patient.get_by_role("main").locator("img.photo").first
        expect(shown).to_be_visible()
        assert shown.evaluate("img => img.complete && img.naturalWidth") > 0
        check.look(patient, "Professionals with a photo")
    check.assert_clean()
    assert len(check.pages) >= 30


def test_the_axe_check_names_the_page_rule_and_nodes_it_fails_on(tmp_path: Path) -> None:
    """The check itself can fail: a page with an unlabelled field and an image without text,
    under a policy forbidding scripts as the app's does, fails it with rule and node."""
    from playwright.sync_api import sync_playwright

    check = Inspector(axe_source(), tmp_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page()
            page.set_content(
                '<html lang="en"><head><title>Faulty</title><meta http-equiv='
                '"Content-Security-Policy" content="script-src \'none\'"></head><body><main>'
                '<h1>Faulty</h1><img src="x.png"><input id="unlabelled"></main></body></html>'
            )
            check.look(page, "A faulty page")
        finally:
            browser.close()
    with pytest.raises(AssertionError) as failed:
        check.assert_clean()
    message = str(failed.value)
    assert "A faulty page, desktop" in message and "A faulty page, phone" in message
    assert "image-alt [critical]" in message and "label [critical]" in message
    assert "#unlabelled" in message
    assert (tmp_path / "01-a-faulty-page-phone.jpeg").exists()
