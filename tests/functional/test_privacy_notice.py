"""The clinic's privacy notice and controller settings, through HTTP: admins edit their details
and publish versions (P37), the notice names the privacy contact and the ICO (P36), lists
exactly the recipients the software uses (P22), consumers acknowledge a new version (P37,
P14), and the platform's notice is a separate document naming its own controller (P38)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from praxis.core import ledger
from praxis.core.ledger import EventKind, LedgerEvent, RecipientKind
from praxis.core.privacy import notices
from praxis.core.privacy.models import NoticeAcknowledgement, PrivacyNotice
from praxis.core.runtime import Runtime
from praxis.core.web.cookies import COOKIES, base_name
from praxis.core.web.cookies import NAMES as COOKIE_NAMES
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant
from tests.conftest import client_for
from tests.functional.flows import book, book_and_pay, events, signed_in
from tests.functional.test_consents import choose
from tests.functional.test_pages_quality import check_page
from tests.provider_fixtures import RELAY_COMPANY, Providers
from tests.support import Clinic, count_rows, login, make_consumer, post_form

PLATFORM_CONTROLLER = {
    "legal_name": "Praxis Hosting Operations Ltd",
    "address": "2 Platform Road, Leeds LS1 1AA",
    "dpo_contact": "dpo@praxis-operator.example",
    "ico_registration": "ZC765432",
}
INFRASTRUCTURE = [
    {
        "legal_name": "Northern Cloud Hosting Ltd",
        "country": "GB",
        "transfer_safeguard": "none needed",
        "purpose": "hosting the platform and its database",
        "categories": ["name", "email", "phone", "address", "appointment", "health"],
    },
    {
        "legal_name": "Relay Mail Inc.",
        "country": "US",
        "transfer_safeguard": "UK International Data Transfer Addendum",
        "purpose": "delivering the platform's email",
        "categories": ["email"],
    },
]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"PLATFORM_CONTROLLER": PLATFORM_CONTROLLER, "PLATFORM_PROCESSORS": INFRASTRUCTURE}


SETTINGS_FORM = {
    "legal_name": "Alpha Clinic Ltd",
    "registered_number": "01234567",
    "address": "1 High Street, London N1 1AA",
    "dpo_contact": "privacy@alpha.example",
    "ico_registration": "ZA123456",
    "complaints_route": "https://alpha.example/complaints",
    "closed_account_months": "6",
    "billing_years": "6",
    "tenant_exit_months": "6",
}


async def admin_of(app: Any, clinic: Clinic) -> httpx.AsyncClient:
    return await signed_in(app, clinic, clinic.admin.username)


async def publish(
    admin: httpx.AsyncClient, source: str | None = None, effective_on: str | None = None
) -> httpx.Response:
    editor = await admin.get("/admin/privacy/notice")
    assert editor.status_code == 200, editor.text
    text = source if source is not None else _textarea(editor.text)
    day = effective_on if effective_on is not None else _prefilled_day(editor.text)
    return await post_form(
        admin,
        "/admin/privacy/notice",
        {"source": text, "effective_on": day, "action": "publish"},
        page="/admin/privacy/notice",
    )


def _prefilled_day(page: str) -> str:
    found = re.search(r'id="f-effective_on" name="effective_on" type="date" value="([^"]*)"', page)
    assert found, "the editor offers no date"
    return found.group(1)


def _textarea(page: str) -> str:
    found = re.search(r'<textarea id="f-source" name="source"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "the editor has no notice text"
    return html.unescape(found.group(1))


async def tenant_row(rt: Runtime, clinic: Clinic) -> Tenant:
    async with rt.database.reading() as db:
        row = await db.get(Tenant, clinic.tenant.id)
        assert row is not None
        return row


# --- controller settings ----------------------------------------------------------------------


@pytest.mark.promise("P36")
async def test_an_admin_changes_the_controller_details_and_the_ledger_names_the_fields(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await admin_of(app, clinic)
    page = await admin.get("/admin/privacy")
    assert page.status_code == 200
    check_page(page.text, "/admin/privacy")
    saved = await post_form(admin, "/admin/privacy", SETTINGS_FORM)
    assert saved.status_code == 303, saved.text
    row = await tenant_row(rt, clinic)
    assert row.controller["dpo_contact"] == "privacy@alpha.example"
    assert row.controller["complaints_route"] == "https://alpha.example/complaints"
    assert row.retention["closed_account_months"] == 6
    found = [e for e in await events(rt, clinic) if e.kind == EventKind.POLICY]
    assert len(found) == 1
    assert found[0].actor_id == clinic.admin.id
    assert "dpo_contact" in found[0].reason and "registered_number" in found[0].reason
    assert "privacy@alpha.example" not in found[0].reason  # names, never values
    # The portal shows the new contact at once (the footer and the notice).
    portal = await client_for(app, clinic.host).get("/privacy")
    assert "privacy@alpha.example" in portal.text
    assert 'href="https://alpha.example/complaints"' in portal.text  # their own route first
    assert 'href="https://ico.org.uk/make-a-complaint/"' in portal.text  # and the ICO always


async def test_each_bad_field_gets_its_own_message_and_nothing_changes(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await admin_of(app, clinic)
    before = await tenant_row(rt, clinic)
    bad = {
        **SETTINGS_FORM,
        "legal_name": "",
        "dpo_contact": "not an email",
        "ico_registration": "12",
        "closed_account_months": "0",
        "billing_years": "many",
    }
    answer = await post_form(admin, "/admin/privacy", bad)
    assert answer.status_code == 422
    check_page(answer.text, "/admin/privacy")
    for name in ("legal_name", "dpo_contact", "ico_registration", "closed_account_months"):
        assert f'id="f-{name}-error"' in answer.text, name
    assert 'id="f-billing_years-error"' in answer.text
    assert 'id="f-address-error"' not in answer.text
    after = await tenant_row(rt, clinic)
    assert (after.controller, after.retention) == (before.controller, before.retention)
    assert not [e for e in await events(rt, clinic) if e.kind == EventKind.POLICY]


async def test_only_clinic_admins_change_privacy_settings(app: Any, clinic: Clinic) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    assert (await consumer.get("/admin/privacy")).status_code == 403
    pro = await signed_in(app, clinic, clinic.professional.username)
    assert (await pro.get("/admin/privacy/notice")).status_code == 403


# --- the notice -------------------------------------------------------------------------------


@pytest.mark.promise("P36")
async def test_every_portal_has_a_privacy_page_with_the_contact_and_the_ico(
    app: Any, clinic: Clinic, other_clinic: Clinic
) -> None:
    for each in (clinic, other_clinic):
        anyone = client_for(app, each.host)
        page = await anyone.get("/privacy")
        assert page.status_code == 200
        check_page(page.text, "/privacy")
        assert each.tenant.controller.dpo_contact in page.text
        assert "Information Commissioner" in page.text
        assert "https://ico.org.uk/make-a-complaint/" in page.text
        assert each.tenant.controller.legal_name in page.text
        # Linked from every page's footer and from the registration form.
        assert 'href="/privacy"' in (await anyone.get("/")).text
        assert 'href="/privacy"' in (await anyone.get("/register")).text


@pytest.mark.promise("P14")
async def test_the_booking_confirmation_links_the_notice(
    app: Any, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book_and_pay(consumer, clinic, providers, days_ahead=2)
    page = await consumer.get(f"/appointments/{appointment_id}")
    assert "confirmed" in page.text
    assert re.search(r'<a href="/privacy">privacy notice</a>', page.text)


@pytest.mark.promise("P37")
async def test_versions_are_published_dated_and_each_stays_readable_with_what_changed(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await admin_of(app, clinic)
    first = await publish(admin)
    assert first.status_code == 303, first.text
    editor = await admin.get("/admin/privacy/notice")
    source = _textarea(editor.text) + "\n## Research\n\nWe never use your data for research.\n"
    second = await publish(admin, source)
    assert second.status_code == 303, second.text

    anyone = client_for(app, clinic.host)
    now = await anyone.get("/privacy")
    assert "Version 2, last updated" in now.text
    assert "We never use your data for research." in now.text
    assert 'href="/privacy/versions/1"' in now.text
    old = await anyone.get("/privacy/versions/1")
    assert old.status_code == 200
    check_page(old.text, "/privacy/versions/1")
    assert "We never use your data for research." not in old.text
    newer = await anyone.get("/privacy/versions/2")
    check_page(newer.text, "/privacy/versions/2")
    assert "What changed from version 1" in newer.text
    assert re.search(
        r"<ins><strong>added:</strong> We never use your data for research\.", newer.text
    )
    assert (await anyone.get("/privacy/versions/3")).status_code == 404
    published = [e for e in await events(rt, clinic) if e.operation == notices.PUBLISHED]
    assert [e.reason.split(",")[0] for e in published] == ["version 1", "version 2"]
    assert all(e.actor_id == clinic.admin.id for e in published)


async def test_a_future_version_waits_for_its_date(app: Any, rt: Runtime, clinic: Clinic) -> None:
    admin = await admin_of(app, clinic)
    assert (await publish(admin)).status_code == 303
    later = (rt_today(clinic.tenant) + timedelta(days=10)).isoformat()
    editor = await admin.get("/admin/privacy/notice")
    assert (await publish(admin, _textarea(editor.text) + "\nNew.\n", later)).status_code == 303
    page = await client_for(app, clinic.host).get("/privacy")
    assert "Version 1, last updated" in page.text
    assert "A new version takes effect on" in page.text


def rt_today(tenant: TenantInfo) -> Any:
    from praxis.core.db import utcnow

    return utcnow().astimezone(tenant.zone).date()


async def test_the_editor_previews_sanitises_and_keeps_the_generated_parts(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await admin_of(app, clinic)
    page = await admin.get("/admin/privacy/notice")
    check_page(page.text, "/admin/privacy/notice")
    hostile = (
        "## Hello\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1))\n\n"
        "[[recipients]]\n\n[[contact]]\n"
    )
    preview = await post_form(
        admin,
        "/admin/privacy/notice",
        {"source": hostile, "action": "preview", "effective_on": ""},
    )
    assert preview.status_code == 303
    shown = await admin.get("/admin/privacy/notice")
    check_page(shown.text, "/admin/privacy/notice")  # no <script> reached the page
    preview_html = shown.text.split('id="preview-title"')[1]
    assert 'href="javascript:' not in preview_html and "<script>" not in preview_html
    assert "Stripe" in shown.text or "Northern Cloud Hosting Ltd" in shown.text
    missing = await publish(admin, "## Only this\n", "")
    assert missing.status_code == 422
    assert "[[recipients]]" in missing.text and 'id="f-source-error"' in missing.text
    assert 'id="f-effective_on-error"' in missing.text
    assert await count_rows(rt, clinic, PrivacyNotice) == 1  # the draft only
    backwards = await publish(admin, None, "2020-01-01")
    assert backwards.status_code == 422 and "cannot apply backwards" in backwards.text


# --- the banner -------------------------------------------------------------------------------


@pytest.mark.promise("P37")
@pytest.mark.promise("P14")
async def test_a_new_version_is_announced_until_the_consumer_acknowledges_it(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    assert "Our privacy notice has changed" not in (await consumer.get("/")).text
    admin = await admin_of(app, clinic)
    assert (await publish(admin)).status_code == 303
    home = await consumer.get("/appointments")
    assert "Our privacy notice has changed" in home.text
    check_page(home.text, "/appointments")
    assert "Our privacy notice has changed" not in (await admin.get("/admin")).text
    done = await post_form(
        consumer,
        "/privacy/acknowledge",
        {"version": "1", "next": "/appointments"},
        page="/appointments",  # the banner's button
    )
    assert done.status_code == 303 and done.headers["location"] == "/appointments"
    assert "Our privacy notice has changed" not in (await consumer.get("/appointments")).text
    async with rt.database.reading(clinic.tenant.id) as db:
        seen = await db.get(NoticeAcknowledgement, (clinic.tenant.id, clinic.consumer.id, 1))
        assert seen is not None and seen.acknowledged_at is not None
    # Someone who registers later saw this version when registering: no banner for them.
    newcomer = await make_consumer(rt, clinic.tenant, "alpha.newcomer")
    fresh = await signed_in(app, clinic, newcomer.username)
    assert "Our privacy notice has changed" not in (await fresh.get("/appointments")).text


# --- recipients that write themselves ---------------------------------------------------------


@pytest.mark.promise("P22")
async def test_the_notice_lists_the_plugins_processors_infrastructure_and_professionals(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    admin = await admin_of(app, clinic)
    assert (await publish(admin)).status_code == 303
    page = (await client_for(app, clinic.host).get("/privacy")).text
    for plugin in ("payments_stripe", "video_whereby", "sms_twilio"):
        processor = rt.plugins.manifests[plugin].processor
        assert processor is not None
        assert html.escape(processor.legal_name, quote=False) in page, plugin
    # The email relay is the company the clinic's settings name, not the manifest's words.
    assert RELAY_COMPANY in page
    smtp = rt.plugins.manifests["email_smtp"].processor
    assert smtp is not None and html.escape(smtp.legal_name) not in page
    assert "Northern Cloud Hosting Ltd" in page and "Relay Mail Inc." in page
    assert "UK International Data Transfer Addendum" in page  # the transfer, with its safeguard
    assert "Alpha.Pro Example" in page  # the approved Professional
    assert "Alpha.Newpro Example" not in page  # not yet approved: receives nothing
    # Approving them makes a new version due, naming them as a recipient to add.
    approve = f"/admin/professionals/{clinic.pending_professional_id}/approve"
    assert (await post_form(admin, approve, {}, page="/admin")).status_code == 303
    due = (await admin.get("/admin/privacy")).text
    assert "Alpha.Newpro Example" in due.split("not yet in your published notice")[1]


@pytest.mark.promise("P22")
async def test_switching_a_provider_off_makes_the_notice_due_and_shows_the_difference(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    admin = await admin_of(app, clinic)
    assert (await publish(admin)).status_code == 303
    calm = await admin.get("/admin/privacy")
    assert "A new version is due" not in calm.text
    off = await post_form(admin, "/admin/providers/sms", {"plugin": ""}, page="/admin/providers")
    assert off.status_code == 303
    due = await admin.get("/admin/privacy")
    assert "A new version is due" in due.text
    twilio = rt.plugins.manifests["sms_twilio"].processor
    assert twilio is not None
    removed = due.text.split("no longer receiving data")[1].split("</ul>")[0]
    assert twilio.legal_name in removed
    assert (await publish(admin)).status_code == 303
    page = (await client_for(app, clinic.host).get("/privacy")).text
    assert twilio.legal_name not in page
    assert "A new version is due" not in (await admin.get("/admin/privacy")).text
    # Switching it back on is due again, now as a recipient added.
    on = await post_form(
        admin, "/admin/providers/sms", {"plugin": "sms_twilio"}, page="/admin/providers"
    )
    assert on.status_code == 303
    again = await admin.get("/admin/privacy")
    added = again.text.split("not yet in your published notice")[1].split("</ul>")[0]
    assert twilio.legal_name in added
    # So does a change of the clinic's own details, named by its label.
    saved = await post_form(
        admin, "/admin/privacy", {**SETTINGS_FORM, "dpo_contact": "new@alpha.example"}
    )
    assert saved.status_code == 303
    assert (
        "Data protection contact (email)"
        in (await admin.get("/admin/privacy"))
        .text.split("Details changed since it was published")[1]
        .split("</p>")[0]
    )


@pytest.mark.promise("P22")
async def test_every_recipient_in_the_ledger_is_in_the_notice_in_force_at_the_time(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    """A full journey (book, pay, intake, video, SMS, email), then each disclosure's recipient
    is looked up in the version that was in force when it happened."""
    admin = await admin_of(app, clinic)
    assert (await publish(admin)).status_code == 303
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await book_and_pay(consumer, clinic, providers, days_ahead=1)
    await book(consumer, clinic, "Long", days_ahead=2)
    await providers.run_jobs()
    found: list[LedgerEvent] = [
        e
        for e in await events(rt, clinic)
        if e.kind == EventKind.DISCLOSURE
        and e.recipient_kind in (RecipientKind.PROCESSOR, RecipientKind.PROFESSIONAL)
    ]
    plugins = {e.plugin for e in found if e.plugin}
    assert {"payments_stripe", "sms_twilio", "email_smtp", "video_whereby"} <= plugins
    assert any(e.recipient_kind == RecipientKind.PROFESSIONAL for e in found)
    async with rt.database.reading(clinic.tenant.id) as db:
        for event in found:
            version = await notices.in_force(db, event.recorded_at)
            assert version is not None, f"no notice in force at {event.recorded_at}"
            named = {r.name for r in notices.recipients_of(version)}
            assert event.recipient in named, (event.recipient, sorted(named))
            assert event.recipient in version.body.replace("\\", "")


# --- the platform's own notice ----------------------------------------------------------------


@pytest.mark.promise("P38")
async def test_the_platform_and_each_clinic_have_separate_notices_naming_their_controller(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    platform = client_for(app, rt.settings.platform_domain)
    own = await platform.get("/platform/privacy")
    assert own.status_code == 200
    check_page(own.text, "/platform/privacy")
    assert "Praxis Hosting Operations Ltd" in own.text
    assert "dpo@praxis-operator.example" in own.text
    assert clinic.tenant.controller.legal_name not in own.text
    clinics = await client_for(app, clinic.host).get("/privacy")
    assert clinic.tenant.controller.legal_name in clinics.text
    assert "Praxis Hosting Operations Ltd" not in clinics.text.split("notice-body")[1]
    assert f"{rt.settings.site_url()}/platform/privacy" in clinics.text
    register = await client_for(app, clinic.host).get("/register")
    assert f"{rt.settings.site_url()}/platform/privacy" in register.text
    assert 'href="/privacy"' in register.text
    # Platform pages link their own notice; a clinic's host does not serve it.
    assert 'href="/platform/privacy"' in (await platform.get("/platform/login")).text
    assert (await client_for(app, clinic.host).get("/platform/privacy")).status_code == 404


async def test_the_ledger_of_policy_changes_is_in_the_clinic_ledger_only(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    admin = await admin_of(app, clinic)
    assert (await publish(admin)).status_code == 303
    async with rt.database.reading(other_clinic.tenant.id) as db:
        assert await notices.published(db) == []
    other = client_for(app, other_clinic.host)
    assert (await other.get("/privacy/versions/1")).status_code == 404
    assert ledger  # the module the ledger checks read


# --- cookies (P08) ----------------------------------------------------------------------------


def cookie_names(response: httpx.Response) -> set[str]:
    return {
        base_name(header.split("=", 1)[0].strip())
        for header in response.headers.get_list("set-cookie")
    }


NECESSARY = frozenset(c.name for c in COOKIES if c.strictly_necessary)


def anonymous_pages(clinic: Clinic) -> list[str]:
    """Every kind of page a visitor reaches without signing in (and one that is not there)."""
    pro, kind = clinic.professional_id, clinic.kinds["Standard"]
    return [
        "/",
        "/professionals",
        f"/professionals/{pro}",
        f"/professionals/{pro}/book?type={kind}",
        "/register",
        "/join",
        "/login",
        "/password/forgot",
        "/privacy",
        "/privacy/cookies",
        "/news",
        "/no-such-page",
    ]


@pytest.mark.promise("P08")
async def test_every_page_sets_only_the_strictly_necessary_cookies_it_lists(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    """Set-Cookie read on every page, anonymous and signed in, on a clinic that does not count
    visits: each cookie is one the cookies page lists, and each is strictly necessary (no
    consent is needed). With analytics on: tests/functional/test_analytics.py."""
    assert {"praxis_visitor"} == COOKIE_NAMES - NECESSARY  # the analytics cookie, only
    seen: set[str] = set()
    anyone = client_for(app, clinic.host)
    for path in anonymous_pages(clinic):
        seen |= cookie_names(await anyone.get(path))
    consumer = client_for(app, clinic.host)
    signing_in = await post_form(
        consumer, "/login", {"username": clinic.consumer.username, "password": "x" * 3}
    )
    seen |= cookie_names(signing_in)
    seen |= cookie_names(await login(consumer, clinic.consumer.username))
    visit = await book(consumer, clinic)
    for path in (
        "/",
        "/appointments",
        f"/appointments/{visit}",
        f"/appointments/{visit}/pay",
        "/account",
        "/account/security",
        "/account/disclosures",
        "/privacy",
    ):
        seen |= cookie_names(await consumer.get(path))
    admin = await admin_of(app, clinic)
    for path in ("/admin", "/admin/privacy", "/admin/privacy/notice", "/admin/ledger"):
        seen |= cookie_names(await admin.get(path))
    seen |= cookie_names(await publish(admin))  # a POST answered with a notice cookie
    platform = client_for(app, rt.settings.platform_domain)
    for path in ("/platform/login", "/platform/privacy", "/platform/privacy/cookies"):
        seen |= cookie_names(await platform.get(path))
    assert seen, "no page set a cookie: the test read nothing"
    assert seen <= NECESSARY, sorted(seen - NECESSARY)
    assert {"praxis_session", "praxis_csrf", "praxis_notice"} <= seen
    listed = html.unescape((await anyone.get("/privacy/cookies")).text)
    for cookie in COOKIES:
        shown = f"<code>{cookie.name}</code>" in listed
        assert shown == (not cookie.analytics_only), cookie.name  # analytics: only if counted
    assert f"at most {rt.settings.session_absolute_hours} hours" in listed
    assert "we set no advertising or analytics cookies" in listed


@pytest.mark.promise("P14")
async def test_a_new_version_is_emailed_to_each_consumer_once(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    someone = await make_consumer(rt, clinic.tenant, "alpha.reader")
    admin = await admin_of(app, clinic)
    published = await publish(admin)
    assert published.status_code == 303
    await providers.run_jobs()
    await providers.run_jobs()  # the fan-out, then its emails; running again adds nothing
    about = [m for m in providers.mails() if "updated its privacy notice" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in about) == sorted(
        [f"{clinic.consumer.username}@example.org", f"{someone.username}@example.org"]
    )
    body = about[0].get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "/privacy/versions/1" in body.decode()
    # Each email is a disclosure to the clinic's email processor, in the ledger.
    sent = [
        e
        for e in await events(rt, clinic)
        if e.plugin == "email_smtp" and e.subject_id in (clinic.consumer.id, someone.id)
    ]
    assert {e.subject_id for e in sent} == {clinic.consumer.id, someone.id}
    assert all(e.recipient == RELAY_COMPANY for e in sent)


@pytest.mark.promise("P14")
async def test_clinic_admins_announce_a_service_change_to_every_consumer_by_email(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    someone = await make_consumer(rt, clinic.tenant, "alpha.listener")
    admin = await admin_of(app, clinic)
    page = await admin.get("/admin/announcements")
    assert page.status_code == 200
    check_page(page.text, "/admin/announcements")
    assert "2 people" in page.text
    bad = await post_form(
        admin, "/admin/announcements", {"subject": "", "message": "short", "action": "send"}
    )
    assert bad.status_code == 422
    assert 'id="f-subject-error"' in bad.text and 'id="f-message-error"' in bad.text
    words = {"subject": "New Saturday opening hours", "message": "We now open 9 to 1 on Saturdays."}
    preview = await post_form(admin, "/admin/announcements", {**words, "action": "preview"})
    assert preview.status_code == 200
    check_page(preview.text, "/admin/announcements")
    assert "We now open 9 to 1 on Saturdays." in preview.text and "Send to 2 people" in preview.text
    await providers.run_jobs()
    assert not [m for m in providers.mails() if m["Subject"] == words["subject"]]  # not yet
    sent = await post_form(admin, "/admin/announcements", {**words, "action": "send"})
    assert sent.status_code == 303
    await providers.run_jobs()
    await providers.run_jobs()
    got = [m for m in providers.mails() if m["Subject"] == words["subject"]]
    assert sorted(str(m["To"]) for m in got) == sorted(
        [f"{clinic.consumer.username}@example.org", f"{someone.username}@example.org"]
    )
    assert f"{clinic.professional.username}@example.org" not in {str(m["To"]) for m in got}


async def test_acknowledging_never_redirects_off_site_nor_to_another_clinics_version(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    admin = await admin_of(app, clinic)
    assert (await publish(admin)).status_code == 303
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    away = await post_form(
        consumer, "/privacy/acknowledge", {"version": "1", "next": "//evil.example/"}, page="/"
    )
    assert away.status_code == 303 and away.headers["location"] == "/"
    other = await signed_in(app, other_clinic, other_clinic.consumer.username)
    refused = await post_form(other, "/privacy/acknowledge", {"version": "1"}, page="/")
    assert refused.status_code == 404  # clinic B has no version 1: A's is invisible to it
    assert await count_rows(rt, other_clinic, NoticeAcknowledgement) == 0


@pytest.mark.promise("P14")
@pytest.mark.promise("P35")
async def test_a_new_version_is_not_emailed_to_who_withdrew_service_emails(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    someone = await make_consumer(rt, clinic.tenant, "alpha.reader")
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await choose(consumer, "service.email", False)
    assert (await publish(await admin_of(app, clinic))).status_code == 303
    await providers.run_jobs()
    await providers.run_jobs()
    about = [m for m in providers.mails() if "updated its privacy notice" in str(m["Subject"])]
    assert [str(m["To"]) for m in about] == [f"{someone.username}@example.org"]
    # Still shown in the portal, where it needs no consent.
    assert "Our privacy notice has changed" in (await consumer.get("/appointments")).text
