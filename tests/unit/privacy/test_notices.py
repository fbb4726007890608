"""The notice's Markdown (core.privacy.notices): markers filled from the settings and the
generated recipients, rendered through a sanitiser, versions compared line by line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest

from praxis.core.errors import InvalidInput
from praxis.core.privacy import notices
from praxis.core.privacy.controller import PrivacySettings
from praxis.core.privacy.models import PrivacyNotice
from praxis.core.privacy.recipients import INFRASTRUCTURE, PLUGIN, Recipient
from praxis.core.privacy.template import DEFAULT_NOTICE, MARKERS
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant
from praxis.tenants.schema import Controller, Retention
from praxis.tenants.services import _columns
from tests.support import tenant_spec

CONTROLLER = Controller(
    legal_name="North *Clinic* Ltd",
    registered_number="01234567",
    address="1 High Street, London N1 1AA",
    dpo_contact="dpo@north.example",
    ico_registration="ZA123456",
)
SETTINGS = PrivacySettings(CONTROLLER, Retention(closed_account_months=9, billing_years=7))
STRIPE = Recipient(
    name="Stripe Payments Europe, Limited",
    source=PLUGIN,
    role="Payments (Stripe)",
    country="IE",
    safeguard="EU adequacy regulations",
    categories=("email", "payment"),
    purposes=("take payment",),
)
HOST = Recipient(
    name="Northern Cloud Hosting Ltd",
    source=INFRASTRUCTURE,
    role="the platform's infrastructure",
    purposes=("hosting",),
)


def test_the_standard_notice_follows_the_seed_structure_and_uses_every_marker() -> None:
    headings = [line for line in DEFAULT_NOTICE.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Who we are",
        "## What we collect",
        "## Why we use it, and on what basis",
        "## Who receives it",
        "## Transfers abroad",
        "## How long we keep it",
        "## Your rights",
        "## Cookies",
        "## How to contact us or complain",
    ]
    for marker in MARKERS:
        assert marker in DEFAULT_NOTICE


@pytest.mark.promise("P36")
def test_filling_in_names_the_controller_periods_recipients_contact_and_the_ico() -> None:
    text = notices.fill(DEFAULT_NOTICE, SETTINGS, [HOST, STRIPE])
    assert "[[" not in text
    page = notices.to_html(text)
    assert "North *Clinic* Ltd" in page  # literal, not emphasis: settings are escaped
    assert "<em>Clinic</em>" not in page
    assert "9 months after you close it" in page and "7 years" in page
    assert "Stripe Payments Europe, Limited" in page and "Northern Cloud Hosting Ltd" in page
    assert "<strong>Stripe Payments Europe, Limited</strong> (IE): EU adequacy" in page
    assert 'href="mailto:dpo@north.example"' in page
    assert 'href="https://ico.org.uk/make-a-complaint/"' in page
    assert "<table>" in page


def test_no_recipient_abroad_says_the_data_stays_in_the_uk() -> None:
    page = notices.to_html(notices.fill("[[transfers]]", SETTINGS, [HOST]))
    assert "stays in the United Kingdom" in page


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        '<a href="https://evil.example" onclick="x()">y</a>',
        "![tracker](https://tracker.example/pixel.gif)",
    ],
)
def test_the_sanitiser_lets_no_script_handler_or_tracker_through(hostile: str) -> None:
    tags = Tags()
    tags.feed(notices.to_html(hostile))
    assert tags.names <= {"p", "a"}, tags.names
    for name, value in tags.attributes:
        assert not name.startswith("on"), name
        assert not (value or "").startswith("javascript:")


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attributes.extend(attrs)


def test_a_clinics_top_heading_becomes_a_section_the_page_has_its_own_title() -> None:
    assert notices.to_html("# Ours\n\ntext") == "<h2>Ours</h2>\n<p>text</p>\n"


def test_the_generated_parts_cannot_be_edited_away() -> None:
    with pytest.raises(InvalidInput) as caught:
        notices.check_source("## Our notice\n\n[[contact]]\n")
    assert "[[recipients]]" in caught.value.fields["source"]
    with pytest.raises(InvalidInput):
        notices.check_source("   ")
    assert notices.check_source("[[recipients]]\r\n[[contact]]") == "[[recipients]]\n[[contact]]\n"


def test_changes_list_lines_added_and_removed() -> None:
    found = notices.changes("a\nb\nc", "a\nc\nd")
    assert ("removed", "b") in found and ("added", "d") in found and ("same", "a") in found


def _published(recipients: list[Recipient], settings: PrivacySettings) -> PrivacyNotice:
    return PrivacyNotice(version=1, source="", snapshot=notices.snapshot(settings, recipients))


def test_a_notice_is_due_when_recipients_or_details_change() -> None:
    assert notices.due(None, SETTINGS, [HOST]).unpublished
    newest = _published([HOST, STRIPE], SETTINGS)
    assert not notices.due(newest, SETTINGS, [HOST, STRIPE])
    swapped = notices.due(newest, SETTINGS, [HOST])
    assert swapped and [r.name for r in swapped.recipients.removed] == [STRIPE.name]
    moved = PrivacySettings(
        CONTROLLER.model_copy(update={"dpo_contact": "new@north.example"}), SETTINGS.retention
    )
    assert notices.due(newest, moved, [HOST, STRIPE]).settings == ["dpo_contact"]


def test_a_version_takes_effect_from_the_start_of_its_day_never_in_the_past() -> None:

    tenant = TenantInfo.from_row(
        Tenant(id=__import__("uuid").uuid4(), **_columns(tenant_spec("x")))
    )
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert notices.effective_moment(tenant, date(2026, 6, 1), now) == now
    later = notices.effective_moment(tenant, date(2026, 6, 3), now)
    assert later.isoformat() == "2026-06-03T00:00:00+01:00"  # midnight in London (BST)


@pytest.mark.promise("P08")
def test_the_cookies_section_says_what_is_counted_only_where_visits_are_counted() -> None:
    counting = PrivacySettings(CONTROLLER, SETTINGS.retention, count_visits=True)
    plain = notices.to_html(notices.fill(DEFAULT_NOTICE, SETTINGS, [HOST]))
    counted = " ".join(notices.to_html(notices.fill(DEFAULT_NOTICE, counting, [HOST])).split())
    assert "We set only the cookies the portal needs" in plain
    assert "Analytics" not in plain
    assert "<strong>Analytics cookies (only with your consent).</strong>" in counted
    for said in ("each page was viewed each day", "at most 13 months", "IP address"):
        assert said in counted
    assert 'href="/privacy/cookies"' in counted


def test_counting_visits_makes_a_new_version_due_until_the_notice_says_so() -> None:
    newest = _published([HOST], SETTINGS)
    newest.source = DEFAULT_NOTICE
    del newest.snapshot["count_visits"]  # published before the switch existed: off
    assert not notices.due(newest, SETTINGS, [HOST])
    counting = PrivacySettings(CONTROLLER, SETTINGS.retention, count_visits=True)
    assert notices.due(newest, counting, [HOST]).settings == ["count_visits"]
    own_words = _published([HOST], counting)
    own_words.source = "[[recipients]]\n\n## Cookies\n\nOnly necessary ones.\n\n[[contact]]\n"
    unsaid = notices.due(own_words, counting, [HOST])
    assert unsaid and unsaid.cookies_unsaid and unsaid.settings == []
