"""The sandbox of fake providers and the mailbox exist in development only, and the mailbox
is for staff: consumers cannot read other people's mail, nor can other clinics."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from praxis.core.config import Settings
from tests.conftest import client_for
from tests.functional.flows import signed_in
from tests.functional.test_consents import PAGE, choose, state_of
from tests.provider_fixtures import Providers
from tests.support import Clinic, login


def _mail(folder: Path, tenant: str, to: str, subject: str) -> None:
    message = EmailMessage()
    message["To"], message["From"], message["Subject"] = to, "clinic@example.org", subject
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    message["X-Praxis-Tenant"] = tenant
    message.set_content(f"Body of {subject}")
    mailbox.Maildir(folder, create=True).add(message)


@pytest.mark.parametrize("settings_overrides", [{"PRAXIS_ENV": "development"}], indirect=True)
async def test_in_development_staff_read_their_clinics_mail_and_the_sandbox_is_served(
    app: Any, settings: Settings, clinic: Clinic, other_clinic: Clinic
) -> None:
    folder = Path(settings.var_dir) / "mailbox"
    _mail(folder, clinic.tenant.slug, "a@example.org", "For alpha")
    _mail(folder, other_clinic.tenant.slug, "b@example.org", "For beta")
    async with client_for(app, clinic.host) as staff:
        await login(staff, clinic.admin.username)
        page = await staff.get("/-/mailbox")
        assert page.status_code == 200
        assert "For alpha" in page.text and "For beta" not in page.text
        assert 'href="/-/sandbox/email/">Write to a clinic' in page.text
    async with client_for(app, clinic.host) as consumer:
        await login(consumer, clinic.consumer.username)
        assert (await consumer.get("/-/mailbox")).status_code == 403
    async with client_for(app, "127.0.0.1:8000") as anyone:
        inbox = await anyone.get("/-/sandbox/twilio/inbox")
        assert inbox.status_code == 200 and "sandbox" in inbox.text.lower()
        assert "form-action 'self' http: https:" in inbox.headers["content-security-policy"]


async def test_outside_development_neither_exists(app: Any, clinic: Clinic) -> None:
    async with client_for(app, clinic.host) as staff:
        await login(staff, clinic.admin.username)
        assert (await staff.get("/-/mailbox")).status_code == 404
        assert (await staff.get("/-/sandbox/twilio/inbox")).status_code == 404
    async with client_for(app, "127.0.0.1:8000") as anyone:
        assert (await anyone.get("/-/sandbox/stripe/v1/accounts")).status_code == 404
        assert (await anyone.get("/-/sandbox/email/")).status_code == 404


@pytest.mark.promise("P18")
@pytest.mark.parametrize("settings_overrides", [{"PRAXIS_ENV": "development"}], indirect=True)
async def test_in_the_sandbox_a_patient_emails_unsubscribe_and_email_news_stops(
    app: Any, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await choose(consumer, "marketing.email", True)
    async with client_for(app, "127.0.0.1:8000") as anyone:
        page = await anyone.get("/-/sandbox/email/")
        assert page.status_code == 200 and "<h1>Write to a clinic</h1>" in page.text
        assert f'<option value="{clinic.tenant.slug}">' in page.text
        form = {"clinic": clinic.tenant.slug, "subject": "Unsubscribe", "text": "No more news"}
        refused = await anyone.post("/-/sandbox/email/", data=form | {"sender": "not an address"})
        assert refused.status_code == 422 and "Enter your email address" in refused.text
        assert state_of((await consumer.get(PAGE)).text, "News and offers by email") == "Given"

        address = f"{clinic.consumer.username}@example.org"
        sent = await anyone.post("/-/sandbox/email/", data=form | {"sender": address})
        assert sent.status_code == 303
        assert "Sent." in (await anyone.get(sent.headers["location"])).text
    assert state_of((await consumer.get(PAGE)).text, "News and offers by email") == "Not given"
