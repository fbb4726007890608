"""The booking pages at phone width in a real browser: nothing scrolls sideways, and every
control is a touch target of at least 24 by 24 CSS pixels (WCAG 2.2, 2.5.8)."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_browser import CHROMIUM, FLAGS, portal, portal_var, pytestmark  # noqa: F401

PHONE = {"width": 360, "height": 740}
CONTROLS = "main .slot, main .button, main button, main input, main select, nav a"


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (page.url, width)
    small = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
        .filter(e => e.offsetParent !== null && e.type !== 'hidden')
        .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
        .filter(([, r]) => r.width < 24 || r.height < 24)
        .map(([html]) => html)""",
        CONTROLS,
    )
    assert small == [], (page.url, small)


def test_booking_pages_fit_a_phone(portal: str) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport=PHONE)
            page.set_default_timeout(15_000)
            page.goto(f"{portal}/professionals")
            _fits(page)
            page.get_by_role("link", name="Dr Sam Rivera").click()
            _fits(page)  # the table of consultations reflows
            page.get_by_role("link", name="See free times for First consultation").click()
            _fits(page)
            page.goto(f"{portal}/login")
            _fits(page)
        finally:
            browser.close()
