"""Marketing campaigns (P17, P18): only those opted in on the channel receive them; every email
carries an unsubscribe link and RFC 8058 headers, and one click (or the mail service's POST)
stops email marketing alone; every text says STOP, and STOP stops texts alone; a withdrawal
counts for a message already queued."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from praxis.core.notifications.campaigns import TOPIC, Campaign, asks_to_unsubscribe
from praxis.core.notifications.models import SentMessage
from praxis.core.runtime import Runtime
from praxis.plugins.email_smtp.inbound import signature
from tests.conftest import client_for
from tests.functional.flows import CONSUMER_PHONE, events, jobs, signed_in
from tests.functional.test_consents import PAGE, choose, state_of
from tests.functional.test_sms import text_the_clinic
from tests.provider_fixtures import INBOUND_EMAIL_SECRET, Providers
from tests.support import Clinic, make_consumer, post_form

LINK = re.compile(r"(http://[^\s]+/unsubscribe/[A-Za-z0-9_=-]+)")


async def campaign(admin: httpx.AsyncClient, channel: str, message: str, subject: str = "") -> Any:
    form = {"channel": channel, "subject": subject, "message": message}
    return await post_form(admin, "/admin/campaigns", form)


def marketing_texts(providers: Providers) -> list[str]:
    return [
        m.body for m in providers.twilio.messages if m.to == CONSUMER_PHONE and "News" in m.body
    ]


@pytest.mark.promise("P17")
async def test_each_channel_reaches_only_those_opted_in_on_it(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    by_email = await signed_in(app, clinic, clinic.consumer.username)
    await choose(by_email, "marketing.email", True)
    other = await make_consumer(rt, clinic.tenant, "texter")
    by_text = await signed_in(app, clinic, other.username)
    await choose(by_text, "marketing.sms", True)
    await make_consumer(rt, clinic.tenant, "quiet")  # agreed to nothing: gets nothing

    admin = await signed_in(app, clinic, clinic.admin.username)
    page = (await admin.get("/admin/campaigns")).text
    assert "Email: 1 person opted in" in page
    assert "Text message (SMS): 1 person opted in" in page
    shown = await post_form(
        admin,
        "/admin/campaigns/preview",
        {"channel": "email", "subject": "Spring hours", "message": "News: we open Saturdays."},
        page="/admin/campaigns",
    )
    assert shown.status_code == 200
    assert "Send to 1 person" in shown.text and "Unsubscribe with one click" in shown.text
    assert await jobs(rt, clinic, TOPIC) == []  # a preview sends nothing

    sent = await campaign(admin, "email", "News: we open Saturdays.", "Spring hours")
    assert sent.status_code == 303
    assert len(await jobs(rt, clinic, TOPIC)) == 1  # one job per person, ids only
    assert (await campaign(admin, "sms", "News: 10% off in May.")).status_code == 303
    await providers.run_jobs()

    (mail,) = [m for m in providers.mails() if m["Subject"] == "Spring hours"]
    assert mail["To"] == f"{clinic.consumer.username}@example.org"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = LINK.search(mail.get_payload(decode=True).decode())
    assert link and mail["List-Unsubscribe"] == f"<{link.group(1)}>"
    for private in (clinic.consumer.username, str(clinic.consumer.id), "example.org"):
        assert private not in link.group(1)  # nothing personal in the URL
    (text,) = marketing_texts(providers)
    assert text.endswith("Reply STOP to opt out.") and text.startswith(clinic.tenant.name)
    async with rt.database.reading(clinic.tenant.id) as db:
        assert [c.audience for c in await db.scalars(select(Campaign))] == [1, 1]
    # The ledger says what each went for: marketing on consent, to whom, nothing else.
    sent_out = [
        (e.subject_id, e.categories, e.purpose, e.legal_basis)
        for e in await events(rt, clinic)
        if e.kind == "disclosure" and e.status == "succeeded"
    ]
    basis = "consent (PECR reg. 22; UK GDPR Art. 6(1)(a))"
    assert (clinic.consumer.id, "email", "marketing emails", basis) in sent_out
    assert (other.id, "phone", "marketing text messages", basis) in sent_out


@pytest.mark.promise("P17")
@pytest.mark.promise("P18")
async def test_one_click_unsubscribes_from_email_and_leaves_texts_as_they_were(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await choose(consumer, "marketing.email", True)
    await choose(consumer, "marketing.sms", True)
    admin = await signed_in(app, clinic, clinic.admin.username)
    await campaign(admin, "email", "News: we open Saturdays.", "Spring hours")
    await providers.run_jobs()
    link = LINK.search(providers.mails()[-1].get_payload(decode=True).decode())
    assert link
    path = link.group(1).split(clinic.host, 1)[1]

    # The mail service posts on the person's behalf: no cookie, no sign-in, no CSRF token.
    anonymous = client_for(app, clinic.host)
    page = await anonymous.get(path)
    assert page.status_code == 200 and ">Unsubscribe</button>" in page.text
    done = await anonymous.post(path, content=b"List-Unsubscribe=One-Click")
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    again = await anonymous.post(path, content=b"List-Unsubscribe=One-Click")
    assert again.status_code == 200  # twice is still unsubscribed, and records nothing new

    mine = (await consumer.get(PAGE)).text
    assert state_of(mine, "News and offers by email") == "Not given"
    assert state_of(mine, "News and offers by text") == "Given"
    assert "by the link in an email" in mine
    changes = [e.operation for e in await events(rt, clinic) if e.kind == "consent"]
    assert changes.count("marketing_email_opt_out") == 1

    before = len(providers.mails())
    await campaign(admin, "email", "News: more Saturdays.", "Summer hours")
    await campaign(admin, "sms", "News: 10% off in May.")
    await providers.run_jobs()
    assert len(providers.mails()) == before  # the email reached no one
    assert len(marketing_texts(providers)) == 1  # the text still reached them


@pytest.mark.promise("P17")
@pytest.mark.promise("P18")
async def test_stop_ends_marketing_texts_and_leaves_email_as_it_was(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await choose(consumer, "marketing.email", True)
    await choose(consumer, "marketing.sms", True)
    await text_the_clinic(consumer, providers, "STOP")
    mine = (await consumer.get(PAGE)).text
    assert state_of(mine, "News and offers by text") == "Not given"
    assert state_of(mine, "News and offers by email") == "Given"
    admin = await signed_in(app, clinic, clinic.admin.username)
    page = (await admin.get("/admin/campaigns")).text
    assert "Text message (SMS): 0 people opted in" in page
    assert "Email: 1 person opted in" in page


@pytest.mark.promise("P18")
async def test_a_withdrawal_after_the_campaign_was_queued_stops_that_message(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await choose(consumer, "marketing.sms", True)
    admin = await signed_in(app, clinic, clinic.admin.username)
    await campaign(admin, "sms", "News: 10% off in May.")
    assert len(await jobs(rt, clinic, TOPIC)) == 1
    await choose(consumer, "marketing.sms", False)  # before the worker runs the job
    await providers.run_jobs()
    assert marketing_texts(providers) == []
    async with rt.database.reading(clinic.tenant.id) as db:
        found = [(m.template, m.status) for m in await db.scalars(select(SentMessage))]
    assert found == [("campaign", "skipped")]


async def test_a_bad_campaign_names_each_field_and_sends_nothing(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    refused = await campaign(admin, "email", "", "")
    assert refused.status_code == 422
    assert "Message" in refused.text
    no_subject = await campaign(admin, "email", "News: we open Saturdays.")
    assert no_subject.status_code == 422 and "An email needs a subject." in no_subject.text
    too_long = await campaign(admin, "sms", "x" * 301)
    assert too_long.status_code == 422 and "Keep a text message to 300 characters." in too_long.text
    assert await jobs(rt, clinic, TOPIC) == []
    async with rt.database.reading(clinic.tenant.id) as db:
        assert list(await db.scalars(select(Campaign))) == []


async def test_campaigns_are_for_clinic_admins_and_links_for_their_own_clinic(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    assert (await consumer.get("/admin/campaigns")).status_code == 403
    await choose(consumer, "marketing.email", True)
    admin = await signed_in(app, clinic, clinic.admin.username)
    await campaign(admin, "email", "News: we open Saturdays.", "Spring hours")
    await providers.run_jobs()
    link = LINK.search(providers.mails()[-1].get_payload(decode=True).decode())
    assert link
    path = link.group(1).split(clinic.host, 1)[1]
    elsewhere = client_for(app, other_clinic.host)
    assert (await elsewhere.get(path)).status_code == 404
    assert (await elsewhere.post(path)).status_code == 404
    forged = client_for(app, clinic.host)
    assert (await forged.post("/unsubscribe/not-a-token")).status_code == 404
    mine = (await consumer.get(PAGE)).text
    assert state_of(mine, "News and offers by email") == "Given"


# --- an email to the clinic headed "Unsubscribe" (the SMTP plugin's inbound mail) ------------


async def email_the_clinic(
    client: httpx.AsyncClient, sender: str, subject: str, *, secret: str = INBOUND_EMAIL_SECRET
) -> httpx.Response:
    """The clinic's mail server forwards a message it received, signed, as it is set up to."""
    raw = (
        f"From: Someone <{sender}>\r\nTo: hello@alpha.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <{abs(hash((sender, subject)))}@mail.example>\r\n\r\nPlease stop.\r\n"
    ).encode()
    return await client.post(
        "/-/plugins/email_smtp/webhook/inbound",
        content=raw,
        headers={"X-Praxis-Signature": signature(secret, raw), "Content-Type": "message/rfc822"},
    )


@pytest.mark.promise("P18")
@pytest.mark.promise("P17")
async def test_an_email_headed_unsubscribe_stops_email_marketing_and_leaves_texts(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await choose(consumer, "marketing.email", True)
    await choose(consumer, "marketing.sms", True)
    mail_server = client_for(app, clinic.host)
    address = f"{clinic.consumer.username}@example.org".upper()  # as a mail client may write it

    chatty = await email_the_clinic(mail_server, address, "Question about parking")
    assert chatty.status_code < 300
    forged = await email_the_clinic(mail_server, address, "Unsubscribe", secret="guess")
    assert forged.status_code == 400
    mine = (await consumer.get(PAGE)).text
    assert state_of(mine, "News and offers by email") == "Given"  # neither changed anything

    done = await email_the_clinic(mail_server, address, "Re: UNSUBSCRIBE")
    assert done.status_code < 300
    mine = (await consumer.get(PAGE)).text
    assert state_of(mine, "News and offers by email") == "Not given"
    assert "by email" in mine
    assert state_of(mine, "News and offers by text") == "Given"
    changes = [
        (e.operation, e.subject_id, e.reason)
        for e in await events(rt, clinic)
        if e.kind == "consent"
    ]
    assert changes[-1] == (
        "marketing_email_opt_out",
        clinic.consumer.id,
        "email headed Unsubscribe",
    )

    admin = await signed_in(app, clinic, clinic.admin.username)
    await campaign(admin, "email", "News: we open Saturdays.", "Spring hours")
    await providers.run_jobs()
    assert [m for m in providers.mails() if m["Subject"] == "Spring hours"] == []


def test_only_a_subject_that_asks_counts() -> None:
    assert asks_to_unsubscribe("Unsubscribe")
    assert asks_to_unsubscribe("re: unsubscribe please")
    assert asks_to_unsubscribe("FWD: Unsubscribe!")
    assert not asks_to_unsubscribe("How do I unsubscribe?")
    assert not asks_to_unsubscribe("")


@pytest.mark.promise("P34")
async def test_a_restricted_record_is_left_out_of_marketing_though_opted_in(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await choose(consumer, "marketing.email", True)
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert "Email: 1 person opted in" in (await admin.get("/admin/campaigns")).text
    await campaign(admin, "email", "News: we open Saturdays.", "Spring hours")  # queued
    restricted = await post_form(consumer, "/account/restrict", {"action": "restrict"})
    assert restricted.status_code == 303
    assert "Email: 0 people opted in" in (await admin.get("/admin/campaigns")).text
    await providers.run_jobs()  # the queued message asks again, and is not sent
    assert [m for m in providers.mails() if m["Subject"] == "Spring hours"] == []
    assert len(await jobs(rt, clinic, TOPIC)) == 1  # it was queued, then skipped
