"""An operator signs in to the platform through the platform's OpenID provider, in a real
browser by visible labels and roles, with axe-core on every page at desktop width and at 390 px
(tests/e2e/axe.py): `praxis serve` with PLATFORM_OIDC_* naming the local provider
(tests/oidc_provider.py, on 127.0.0.1), and the demo's operator (ops@example.org)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from praxis.core.sandbox.harness import start
from tests.e2e.axe import Inspector, axe_source, needs_axe, screenshots_folder
from tests.e2e.test_browser import desktop_browser, serve
from tests.e2e.test_browser import pytestmark as browser_marks
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OpenIdProvider

pytestmark = [*browser_marks, needs_axe]  # CI requires both (PRAXIS_REQUIRE_BROWSER)

OFFERED = "Operators: sign in with your organisation's account"


@pytest.fixture(scope="module")
def axe_js() -> str:
    return axe_source()  # before the server starts: without axe-core there is no journey


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[OpenIdProvider, str]]:
    op = OpenIdProvider(email="ops@example.org")
    running = start(op.app)
    try:
        yield op, running.url
    finally:
        running.stop()


@pytest.fixture(scope="module")
def platform(
    axe_js: str, provider: tuple[OpenIdProvider, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    _, op_url = provider
    with serve(
        tmp_path_factory.mktemp("operator-sign-in"),
        OUTBOUND_ALLOWED_HOSTS="127.0.0.1",
        PLATFORM_OIDC_ISSUER=op_url,
        PLATFORM_OIDC_CLIENT_ID=CLIENT_ID,
        PLATFORM_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        PLATFORM_OIDC_EMAIL_DOMAIN="example.org",
    ) as url:
        yield "http://localhost:" + url.rsplit(":", 1)[1]


def test_an_operator_signs_in_through_the_platforms_provider(
    platform: str, provider: tuple[OpenIdProvider, str], axe_js: str, tmp_path: Path
) -> None:
    op, _ = provider
    check = Inspector(axe_js, screenshots_folder(tmp_path))
    with desktop_browser() as fresh:
        ops = fresh()
        ops.goto(f"{platform}/platform/login")
        check.look(ops, "Platform sign-in, the provider offered")
        ops.get_by_role("link", name=OFFERED).click()
        expect(ops.get_by_role("heading", name="Tenants")).to_be_visible()
        check.look(ops, "Signed in to the platform through the provider")

        op.email = "nobody@example.org"  # no operator has it
        stranger = fresh()
        stranger.goto(f"{platform}/platform/login")
        stranger.get_by_role("link", name=OFFERED).click()
        expect(stranger.get_by_role("heading", name="Sign-in failed")).to_be_visible()
        expect(stranger.get_by_role("alert")).to_contain_text("No active operator")
        check.look(stranger, "Platform sign-in refused")
        stranger.get_by_role("link", name="Back to sign in").click()
        expect(stranger.get_by_role("heading", name="Sign in to the platform")).to_be_visible()
    check.assert_clean()
    assert op.tokens_issued == 2
