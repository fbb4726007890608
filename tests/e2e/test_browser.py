"""A real browser: a consumer opens the demo portal, registers, books and sees the booking.

Drives Debian's Chromium through Playwright against `praxis serve` in a subprocess,
exactly as `make run` starts it (embedded SQLite, demo clinic loaded).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PRAXIS = str(Path(sys.executable).parent / "praxis")  # the console script beside this Python


def _praxis(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PRAXIS, *args], env=env, check=True, timeout=120)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make run`, in miniature: migrate, load the demo, serve; yields the portal URL."""
    var = tmp_path_factory.mktemp("var")
    port = _free_port()
    env = {
        **os.environ,
        "PRAXIS_ENV": "development",
        "PRAXIS_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite+aiosqlite:///{var / 'praxis.db'}",
        "STAFF_MFA_REQUIRED": "false",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TEST_DATABASE_URL", None)
    _praxis("db", "upgrade", env=env)
    _praxis("demo", "--port", str(port), env=env)
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


def test_consumer_registers_books_and_sees_the_appointment(portal: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page()
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

            page.get_by_role("link", name="Dr Sam Rivera").click()
            page.get_by_role("link", name="See free times for First consultation").click()
            # a slot on the second day shown, so the minimum notice cannot pass mid-test
            slot = page.locator("section.day").nth(1).get_by_role("button").first
            slot_time = re.search(r"\d\d:\d\d", slot.inner_text())
            assert slot_time is not None
            slot.click()

            expect(page).to_have_url(f"{portal}/appointments")
            expect(page.get_by_role("status")).to_contain_text("is booked")
            upcoming = page.locator(".appointments").first
            expect(upcoming).to_contain_text("First consultation with Dr Sam Rivera")
            expect(upcoming).to_contain_text(slot_time.group(0))
        finally:
            browser.close()
