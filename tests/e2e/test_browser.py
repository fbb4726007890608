"""A real browser: a consumer opens the demo portal, registers, books and sees the booking.

Drives Debian's Chromium through Playwright against `praxis serve` in a subprocess,
exactly as `make run` starts it (embedded SQLite, demo clinic loaded).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists() and os.environ.get("PRAXIS_REQUIRE_BROWSER"):
    raise RuntimeError("PRAXIS_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium (apt-get install chromium); CI installs and requires it",
    ),
]


@contextmanager
def desktop_browser() -> Iterator[Callable[[], Any]]:
    """Chromium, and a maker of fresh pages at desktop size: each its own context (its own
    cookies), as a different person at another computer."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:

            def fresh() -> Any:
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.set_default_timeout(15_000)
                return page

            yield fresh
        finally:
            browser.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PRAXIS = str(Path(sys.executable).parent / "praxis")  # the console script beside this Python


def _praxis(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PRAXIS, *args], env=env, check=True, timeout=120)


def _env(var: Path, port: int | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PRAXIS_ENV": "development",
        "PRAXIS_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite+aiosqlite:///{var / 'praxis.db'}",
        "STAFF_MFA_REQUIRED": "false",
        "LOG_LEVEL": "WARNING",
        "WORKER_INTERVAL": "1",  # scans every second: the reminder comes without a long wait
        "OUTBOX_POLL_SECONDS": "0.2",
    }
    if port:
        env["SITE_PORT"] = str(port)
    env.pop("TEST_DATABASE_URL", None)
    return env


@pytest.fixture(scope="module")
def portal_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="module")
def portal(portal_var: Path) -> Iterator[str]:
    """`make run`, in miniature: migrate, load the demo, serve; yields the portal URL."""
    with serve(portal_var) as url:
        yield url


_TEMPLATE: list[Path] = []  # this process's migrated demo, made once (``_demo_copy``)


def _demo_copy(var: Path, port: int) -> None:
    """``var`` as `make run` leaves it: migrated, demo loaded for ``port``. The first server of
    this test process runs `praxis db upgrade` and `praxis demo` as `make run` does; later
    ones start from a copy of that folder (its database and local keys) and load the demo
    again in this process (what `praxis demo` runs, idempotent), pointing its sandbox
    providers at their own port and folder: about 4 s less per server."""
    if not _TEMPLATE:
        made = Path(tempfile.mkdtemp(prefix="praxis-e2e-demo-"))
        atexit.register(shutil.rmtree, made, ignore_errors=True)
        template_env = _env(made, port)
        _praxis("db", "upgrade", env=template_env)
        _praxis("demo", "--port", str(port), env=template_env)
        _TEMPLATE.append(made)
    shutil.copytree(_TEMPLATE[0], var, dirs_exist_ok=True)
    _in_a_thread(_load_demo(var, port))


def _in_a_thread(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` on a loop of its own, away from any loop this test process runs."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


async def _load_demo(var: Path, port: int) -> None:
    from praxis.core.config import load_settings
    from praxis.core.demo import load_demo
    from praxis.core.runtime import build_runtime

    settings = load_settings(
        env="development", var_dir=var, database_url=f"sqlite+aiosqlite:///{var / 'praxis.db'}"
    )
    runtime = build_runtime(settings)
    try:
        await load_demo(runtime, port=port)
    finally:
        await runtime.close()


@contextmanager
def serve(var: Path, **settings: str) -> Iterator[str]:
    """Migrate, load the demo and serve it with ``settings`` added to the environment; yields
    the demo portal's URL and stops the server after."""
    port = _free_port()
    env = {**_env(var, port), **settings}
    _demo_copy(var, port)
    log = (var / "serve.log").open("w")
    server = subprocess.Popen(
        [PRAXIS, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://demo.localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/-/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"praxis serve did not start: {(var / 'serve.log').read_text()}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _db(portal_var: Path) -> sqlite3.Connection:
    return sqlite3.connect(portal_var / "praxis.db")


def _sqlite_time(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def bring_forward(var: Path, appointment_id: str) -> None:
    """Pretend it was booked two days ago and starts in five minutes: the reminder is due and
    the room is open, without waiting a day in a test."""
    now = datetime.now(UTC)
    with _db(var) as db:
        db.execute(
            "UPDATE appointments SET starts_at = ?, ends_at = ?, confirmed_at = ? WHERE id = ?",
            (
                _sqlite_time(now + timedelta(minutes=5)),
                _sqlite_time(now + timedelta(minutes=35)),
                _sqlite_time(now - timedelta(days=2)),
                uuid.UUID(appointment_id).hex,
            ),
        )


def test_the_whole_journey_in_a_browser(portal: str, portal_var: Path) -> None:
    """register -> book -> questionnaire -> pay on the sandbox checkout -> confirmation SMS and
    email -> Whereby room -> reminder -> join -> who received my data -> ledger intact."""
    from playwright.sync_api import expect, sync_playwright

    sandbox = portal.replace("demo.localhost", "127.0.0.1") + "/-/sandbox"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.goto(portal)
            expect(page.get_by_role("heading", name="Riverside Health Clinic")).to_be_visible()

            page.get_by_role("navigation", name="Main").get_by_role("link", name="Register").click()
            page.get_by_label("Full name").fill("Robin Browser")
            page.get_by_label("Username").fill("robin")
            page.get_by_label("Email address").fill("robin@example.org")
            page.get_by_label("Mobile phone number").fill("07911 123499")
            page.get_by_label("Address line 1").fill("2 Test Road")
            page.get_by_label("Town or city").fill("Leeds")
            page.get_by_label("Postcode").fill("ls1 4ap")
            page.get_by_label("Password").fill("a-long-browser-password")
            page.get_by_role("button", name="Create account").click()
            expect(page.get_by_role("status")).to_contain_text("Your account is ready")

            # Book: a paid video consultation, held while it is paid for.
            page.get_by_role("link", name="Dr Sam Rivera").click()
            page.get_by_role("link", name="See free times for First consultation").click()
            slot = page.locator("section.day").nth(1).get_by_role("link").first
            slot.click()
            # The review step: nothing is held until the booking is confirmed.
            expect(
                page.get_by_role("heading", name="Check and confirm your booking")
            ).to_be_visible()
            page.get_by_role("button", name="Confirm booking").click()
            expect(page.get_by_role("heading", name="Pay for your appointment")).to_be_visible()
            appointment_id = re.search(r"/appointments/([0-9a-f-]{36})/pay", page.url).group(1)  # type: ignore[union-attr]

            # Pay on the provider's hosted page (the sandbox's), never on ours.
            page.get_by_role("link", name="Continue to the secure payment page").click()
            expect(page.get_by_text("Sandbox: no real money")).to_be_visible()
            page.get_by_role("button", name=re.compile("^Pay")).click()
            expect(page).to_have_url(re.compile(rf"/appointments/{appointment_id}\?paid=1"))
            _until(page, lambda: "confirmed" in page.locator("main").inner_text())

            # The questionnaire is outstanding until answered.
            page.get_by_role("link", name="Complete the questionnaire").click()
            page.get_by_label(re.compile("height", re.I)).fill("181")
            page.get_by_label(re.compile("weight", re.I)).fill("77.5")
            page.get_by_label(re.compile("concern", re.I)).fill("Back pain when running.")
            page.get_by_role("group", name=re.compile("medicine", re.I)).get_by_label("No").check()
            page.get_by_role("group", name=re.compile("share", re.I)).get_by_label("Yes").check()
            page.get_by_role("button", name="Save my answers").click()
            expect(page.get_by_role("status")).to_contain_text("your answers are saved")

            # The confirmation SMS, in the sandbox inbox of the consumer's phone.
            inbox = browser.new_page()
            inbox.goto(f"{sandbox}/twilio/inbox/+447911123499")
            expect(inbox.locator("main")).to_contain_text("paid and confirmed")

            # The confirmation email, in the development mailbox (staff only).
            staff = browser.new_context().new_page()
            staff.goto(f"{portal}/login")
            staff.get_by_label("Username").fill("admin")
            staff.get_by_label("Password").fill("demo-admin-pass")
            staff.get_by_role("button", name="Sign in").click()
            staff.goto(f"{portal}/-/mailbox")
            expect(staff.locator("main")).to_contain_text("robin@example.org")
            expect(staff.locator("main")).to_contain_text("paid and confirmed")

            # A day on: the reminder comes, and the room opens.
            bring_forward(portal_var, appointment_id)
            _until(inbox, lambda: "reminder" in inbox.locator("main").inner_text())
            page.goto(f"{portal}/appointments/{appointment_id}")
            page.get_by_role("link", name="Join the video consultation").click()
            expect(page.get_by_text(re.compile("Sandbox video room"))).to_be_visible()
            page.get_by_role("button", name="Join").click()

            # Who received my data: every processor, and the Professional.
            page.goto(f"{portal}/account/disclosures")
            table = page.locator("main table")
            for recipient in (
                "Stripe Payments Europe",
                "Twilio Ireland",
                "Whereby",
                "Dr Sam Rivera",
            ):
                expect(table).to_contain_text(recipient)
            staff.goto(f"{portal}/admin/ledger?consumer=robin")
            expect(staff.locator("main table")).to_contain_text("create_meeting".replace("_", " "))
        finally:
            browser.close()
    audit = subprocess.run(
        [PRAXIS, "audit", "verify"],
        env=_env(portal_var),
        capture_output=True,
        text=True,
        check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert audit.stdout.startswith("OK")


def _until(page: Any, condition: Any, *, seconds: float = 20) -> None:
    """Reload until the in-process worker has done its part (webhooks, outbox, scans)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"gave up waiting on {page.url}: {page.locator('main').inner_text()}"
            )
        time.sleep(0.3)
        page.reload()
