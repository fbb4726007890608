"""A clinic admin manages staff in a real browser, by visible labels and roles only, with
axe-core on every page at desktop width and at 390 px (tests/e2e/axe.py): invites a colleague,
sends the invitation again, cancels another, removes the Professional and invites them back;
the Professional follows the emailed link, chooses a new password and signs in with it."""

from __future__ import annotations

import email
import mailbox
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import Inspector, axe_source, needs_axe, screenshots_folder
from tests.e2e.test_browser import desktop_browser, serve
from tests.e2e.test_browser import pytestmark as browser_marks

pytestmark = [*browser_marks, needs_axe]

NEW_PASSWORD = "a-new-password-after-coming-back"


@pytest.fixture(scope="module")
def staff_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("staff")


@pytest.fixture(scope="module")
def axe_js() -> str:
    return axe_source()


@pytest.fixture(scope="module")
def site(axe_js: str, staff_var: Path) -> Iterator[str]:
    with serve(staff_var) as url:
        yield url


def _sign_in(page: Any, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _link_to(folder: Path, subject: str, seconds: float = 30) -> str:
    """The invitation link in the email with this subject, from the demo's Maildir."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if folder.exists():
            box = mailbox.Maildir(folder, create=False)
            for key in box.iterkeys():
                message = email.message_from_bytes(box.get_bytes(key))
                if message["Subject"] != subject:
                    continue
                for part in message.walk():
                    body = part.get_payload(decode=True)
                    if isinstance(body, bytes):
                        found = re.search(r"http://\S+/invitation\?token=[\w-]+", body.decode())
                        if found:
                            return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no email {subject!r} in {folder}")


def test_an_admin_manages_invitations_and_invites_a_removed_colleague_back(
    site: str, staff_var: Path, axe_js: str, tmp_path: Path
) -> None:
    check = Inspector(axe_js, screenshots_folder(tmp_path))
    with desktop_browser() as fresh:
        admin = fresh()
        admin.goto(f"{site}/login")
        _sign_in(admin, "admin", "demo-admin-pass")
        for name, address in (("Casey Desk", "casey@example.org"), ("Lee Late", "lee@x.org")):
            admin.goto(f"{site}/admin/staff")
            admin.get_by_label("Full name").fill(name)
            admin.get_by_label("Email address").fill(address)
            admin.get_by_label("front desk").check()
            admin.get_by_role("button", name="Send the invitation").click()
            expect(admin.get_by_role("status")).to_contain_text("emailed an invitation")
        waiting = admin.get_by_role("region", name="Invitations waiting to be accepted")
        expect(waiting).to_contain_text("casey@example.org")
        check.look(admin, "Staff with invitations waiting")

        waiting.get_by_role("button", name="Send again to Casey Desk").click()
        expect(admin.get_by_role("status")).to_contain_text("no longer works")
        admin.get_by_role("button", name="Cancel invitation of Lee Late").click()
        expect(admin.get_by_role("status")).to_contain_text("was cancelled")
        expect(waiting).not_to_contain_text("Lee Late")
        check.look(admin, "Staff after sending again and cancelling")

        team = admin.get_by_role("region", name="Your team")
        team.get_by_role("link", name="Dr Sam Rivera").click()
        admin.get_by_role("button", name="Remove Dr Sam Rivera").click()
        expect(admin.get_by_role("status")).to_contain_text("was removed")
        admin.get_by_role("region", name="Your team").get_by_role(
            "link", name="Dr Sam Rivera"
        ).click()
        expect(admin.get_by_role("heading", name="Invite back")).to_be_visible()
        check.look(admin, "A removed colleague")
        admin.get_by_role("button", name="Invite Dr Sam Rivera back").click()
        expect(admin.get_by_role("status")).to_contain_text("emailed a link to come back")
        check.look(admin, "A removed colleague invited back")

        link = _link_to(staff_var / "mailbox", "You are invited back to Riverside Health Clinic")
        pro = fresh()
        pro.goto(link)
        heading = pro.get_by_role("heading", name="Welcome back to Riverside Health Clinic")
        expect(heading).to_be_visible()
        expect(pro.locator("main")).to_contain_text("dr.rivera")
        check.look(pro, "Coming back: a new password")
        pro.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
        pro.get_by_label("Password again").fill(NEW_PASSWORD)
        pro.get_by_role("button", name="Reopen my account").click()
        expect(pro.get_by_role("status")).to_contain_text("your account is ready")
        _sign_in(pro, "dr.rivera", NEW_PASSWORD)
        expect(pro.get_by_role("navigation", name="Main")).to_contain_text("Workspace")
        check.look(pro, "Back in the workspace")
    check.assert_clean()
    assert len(check.pages) == 6
