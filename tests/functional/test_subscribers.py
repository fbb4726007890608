"""News and offers without an account (/news, P17, P18): each channel starts only once the
link sent to the address or number is used (double opt-in); campaigns reach subscribers on the
channels they chose, counted in the audience, with the same unsubscribe link, RFC 8058
headers and STOP; each way out stops its own channel, even for a message already queued."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core.consents.models import ConsentRecord
from praxis.core.notifications.campaigns import TOPIC
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.flows import jobs, signed_in
from tests.functional.test_campaigns import LINK, campaign
from tests.functional.test_sms import text_the_clinic
from tests.provider_fixtures import Providers
from tests.support import Clinic, post_form

SUBSCRIBER_EMAIL = "reader@example.net"
SUBSCRIBER_PHONE = "+447400123456"
CONFIRM = re.compile(r"(http://[^\s]+/news/confirm/[A-Za-z0-9_=-]+)")


async def sign_up(client: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await post_form(client, "/news", form)


def path_of(link: str, clinic: Clinic) -> str:
    return link.split(clinic.host, 1)[1]


async def confirm_link(providers: Providers, clinic: Clinic) -> str:
    await providers.run_jobs()
    (mail,) = [m for m in providers.mails() if m["To"] == SUBSCRIBER_EMAIL]
    assert mail["Subject"] == f"Confirm your subscription to {clinic.tenant.name}"
    found = CONFIRM.search(mail.get_payload(decode=True).decode())
    assert found
    return path_of(found.group(1), clinic)


async def text_link(providers: Providers, clinic: Clinic, phone: str = SUBSCRIBER_PHONE) -> str:
    """The confirmation link texted to ``phone`` (the latest)."""
    await providers.run_jobs()
    texted = [m.body for m in providers.twilio.messages if m.to == phone]
    sent = [body for body in texted if "/news/confirm/" in body]
    assert sent, "no confirmation text was sent"
    found = CONFIRM.search(sent[-1])
    assert found
    return path_of(found.group(1), clinic)


def texts_to_subscriber(providers: Providers) -> list[str]:
    return [m.body for m in providers.twilio.messages if m.to == SUBSCRIBER_PHONE]


async def records(rt: Runtime, clinic: Clinic) -> list[tuple[str, str | None, bool, str]]:
    async with rt.database.reading(clinic.tenant.id) as db:
        rows = await db.scalars(select(ConsentRecord).order_by(ConsentRecord.recorded_at))
        return [(r.channel, r.address, r.given, r.method) for r in rows if r.subject_id is None]


@pytest.mark.promise("P17")
async def test_a_subscriber_without_an_account_gets_news_on_the_channels_chosen(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    visitor = client_for(app, clinic.host)
    portal = await visitor.get("/")
    assert 'href="/news"' in portal.text  # the footer leads to it
    page = await visitor.get("/news")
    assert page.status_code == 200 and 'href="/privacy"' in page.text
    asked = await sign_up(
        visitor, email=SUBSCRIBER_EMAIL, phone="07400 123456", by_email="yes", by_sms="yes"
    )
    assert asked.status_code == 303
    shown = (await visitor.get("/news")).text
    assert "We have emailed you a link" in shown and "We have texted you a link" in shown

    admin = await signed_in(app, clinic, clinic.admin.username)
    counts = (await admin.get("/admin/campaigns")).text
    assert "Email: 0 people opted in" in counts  # not until the address is confirmed
    assert "Text message (SMS): 0 people opted in" in counts  # nor the number

    texted = await text_link(providers, clinic)
    assert "Confirm your mobile number" in (await visitor.get(texted)).text
    assert (await post_form(visitor, texted, {})).status_code == 303
    assert "Text message (SMS): 1 person opted in" in (await admin.get("/admin/campaigns")).text

    link = await confirm_link(providers, clinic)
    confirming = await visitor.get(link)
    assert confirming.status_code == 200 and "Confirm my subscription" in confirming.text
    assert (await post_form(visitor, link, {})).status_code == 303
    assert "Email: 1 person opted in" in (await admin.get("/admin/campaigns")).text
    assert await records(rt, clinic) == [
        ("sms", SUBSCRIBER_PHONE, True, "sms_link"),
        ("email", SUBSCRIBER_EMAIL, True, "email_link"),
    ]

    await campaign(admin, "email", "News: we open Saturdays.", "Spring hours")
    await campaign(admin, "sms", "News: 10% off in May.")
    await providers.run_jobs()
    (mail,) = [m for m in providers.mails() if m["Subject"] == "Spring hours"]
    assert mail["To"] == SUBSCRIBER_EMAIL
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = LINK.search(mail.get_payload(decode=True).decode())
    assert unsubscribe and mail["List-Unsubscribe"] == f"<{unsubscribe.group(1)}>"
    assert "reader" not in unsubscribe.group(1)  # nothing personal in the URL
    (text,) = [t for t in texts_to_subscriber(providers) if "10% off" in t]
    assert text.endswith("Reply STOP to opt out.")


@pytest.mark.promise("P18")
async def test_the_unsubscribe_link_and_stop_each_end_their_own_channel(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    visitor = client_for(app, clinic.host)
    await sign_up(
        visitor, email=SUBSCRIBER_EMAIL, phone=SUBSCRIBER_PHONE, by_email="yes", by_sms="yes"
    )
    await post_form(visitor, await confirm_link(providers, clinic), {})
    await post_form(visitor, await text_link(providers, clinic), {})
    admin = await signed_in(app, clinic, clinic.admin.username)
    await campaign(admin, "email", "News: we open Saturdays.", "Spring hours")
    await providers.run_jobs()
    (mail,) = [m for m in providers.mails() if m["Subject"] == "Spring hours"]
    found = LINK.search(mail.get_payload(decode=True).decode())
    assert found

    anonymous = client_for(app, clinic.host)
    path = path_of(found.group(1), clinic)
    assert ">Unsubscribe</button>" in (await anonymous.get(path)).text
    done = await anonymous.post(path, content=b"List-Unsubscribe=One-Click")
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert "reply STOP" in done.text  # what still reaches them, and how to end it

    # A text already queued when STOP arrives is not sent.
    await campaign(admin, "sms", "News: 10% off in May.")
    assert len(await jobs(rt, clinic, TOPIC)) == 2
    await text_the_clinic(client_for(app, clinic.host), providers, "STOP", SUBSCRIBER_PHONE)
    await campaign(admin, "email", "News: more Saturdays.", "Summer hours")
    await providers.run_jobs()
    assert not any("10% off" in text for text in texts_to_subscriber(providers))
    assert [m for m in providers.mails() if m["Subject"] == "Summer hours"] == []
    counts = (await admin.get("/admin/campaigns")).text
    assert "Email: 0 people opted in" in counts and "Text message (SMS): 0 people" in counts


@pytest.mark.promise("P17")
async def test_each_bad_field_gets_its_own_message_and_nothing_is_stored(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    visitor = client_for(app, clinic.host)
    nothing = await sign_up(visitor, email="", phone="")
    assert nothing.status_code == 422 and "Choose email, text messages or both." in nothing.text
    bad = await sign_up(visitor, email="not-an-address", phone="12", by_email="yes", by_sms="yes")
    assert bad.status_code == 422
    assert "Enter an email address like name@example.com." in bad.text
    assert "Enter a phone number" in bad.text or "phone number is not valid" in bad.text
    missing = await sign_up(visitor, by_email="yes")
    assert "Enter the email address for the news by email." in missing.text
    await providers.run_jobs()
    assert await records(rt, clinic) == [] and providers.mails() == []
    assert providers.twilio.messages == []


@pytest.mark.promise("P17")
async def test_a_number_someone_else_typed_gets_one_text_and_no_news(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    visitor = client_for(app, clinic.host)
    await sign_up(visitor, phone="07400 123456", by_sms="yes")
    link = await text_link(providers, clinic)
    (asked,) = texts_to_subscriber(providers)
    assert "Not you? Ignore this message." in asked and clinic.tenant.name in asked
    assert await records(rt, clinic) == []  # nothing is consented until the link is used
    admin = await signed_in(app, clinic, clinic.admin.username)
    await campaign(admin, "sms", "News: 10% off in May.")
    await providers.run_jobs()
    assert texts_to_subscriber(providers) == [asked]  # the news did not reach them
    assert (await visitor.get(link)).status_code == 200  # until its owner opens the link


async def test_a_confirmation_link_of_another_clinic_or_forged_is_not_found(
    app: Any, clinic: Clinic, providers: Providers
) -> None:
    visitor = client_for(app, clinic.host)
    await sign_up(visitor, email=SUBSCRIBER_EMAIL, by_email="yes")
    link = await confirm_link(providers, clinic)
    forged = link[:-6] + "AAAAAA"
    assert (await visitor.get(forged)).status_code == 404
    assert (await visitor.get("/unsubscribe/" + link.rsplit("/", 1)[1])).status_code == 404


async def test_an_account_holder_who_also_subscribes_is_counted_once(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    visitor = client_for(app, clinic.host)
    await sign_up(visitor, phone="+447911123456", by_sms="yes")  # the consumer's own number
    await post_form(visitor, await text_link(providers, clinic, "+447911123456"), {})
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert "Text message (SMS): 1 person opted in" in (await admin.get("/admin/campaigns")).text
    await campaign(admin, "sms", "News: 10% off in May.")
    await providers.run_jobs()
    assert len([m for m in providers.twilio.messages if "10% off" in m.body]) == 1
