"""plugins.sms_twilio with the real twilio SDK and httpx against the sandbox's fake Twilio."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

import praxis.plugins.sms_twilio as sms_twilio
from praxis.core.hookspecs import DataCategory
from praxis.core.providers.common import (
    OPERATOR_ONLY,
    PermanentFailure,
    ProviderContext,
    TemporaryFailure,
    WebhookRejected,
    WebhookRequest,
)
from praxis.core.providers.sms import (
    MessageErasure,
    SmsErasingProvider,
    SmsInbound,
    SmsMessage,
    SmsProvider,
    SmsStatusUpdate,
)
from praxis.core.sandbox import harness
from praxis.core.sandbox.harness import Delivery
from praxis.core.sandbox.twilio import FakeTwilio
from praxis.plugins.sms_twilio import TwilioSettings, TwilioSms
from praxis.plugins.sms_twilio.errors import provider_error
from praxis.plugins.sms_twilio.transport import HttpxTwilioClient, retry_after_seconds

ACCOUNT = "AC" + "a1" * 16
TOKEN = "0f" * 16
SERVICE = "MG" + "b2" * 16
CLINIC = "+447700900000"
PATIENT = "+447700900123"
WEBHOOK = "https://alpha.praxis.example/-/plugins/sms_twilio/webhook"
BODY = "Alpha Clinic: your appointment is tomorrow at 10:00. Reply STOP to opt out."


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    running = harness.start(fake.app)
    yield fake, running.url
    running.stop()


@pytest.fixture
def fake(served: tuple[FakeTwilio, str]) -> FakeTwilio:
    fake, _ = served
    fake.reset()
    fake.add_account(ACCOUNT, TOKEN)
    fake.add_number(CLINIC, f"{WEBHOOK}/inbound")
    return fake


@pytest.fixture
def api_url(served: tuple[FakeTwilio, str]) -> str:
    return served[1]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture
async def impatient() -> AsyncIterator[httpx.AsyncClient]:
    """A client that gives up quickly, for answers that come too late."""
    async with httpx.AsyncClient(timeout=0.5) as client:
        yield client


def provider(api_url: str, http: httpx.AsyncClient, **settings: Any) -> TwilioSms:
    values = {"account_sid": ACCOUNT, "auth_token": TOKEN, "from_number": CLINIC}
    values.update(api_base_url=api_url, **settings)
    context = ProviderContext(
        settings=TwilioSettings(**values),
        http=http,
        tenant_slug="alpha",
        tenant_name="Alpha Clinic",
        public_url="https://alpha.praxis.example",
        webhook_url=WEBHOOK,
    )
    return TwilioSms(context)


def sms(attempt: int = 1, *, to: str = PATIENT, body: str = BODY, **extra: Any) -> SmsMessage:
    return SmsMessage(
        idempotency_key="job-1",
        attempt=attempt,
        to=to,
        body=body,
        about=(DataCategory.APPOINTMENT,),
        **extra,
    )


def webhook(delivery: Delivery) -> WebhookRequest:
    """A recorded delivery as the platform hands it over, its topic read from the URL."""
    topic = delivery.url.removeprefix(WEBHOOK + "/") if delivery.url.startswith(WEBHOOK) else ""
    return harness.webhook_request(delivery, topic=topic)


def signed(params: dict[str, str], *, topic: str = "status", token: str = TOKEN) -> WebhookRequest:
    url = f"{WEBHOOK}/{topic}"
    signature = RequestValidator(token).compute_signature(url, params)
    return webhook(Delivery(url, {"X-Twilio-Signature": signature}, urlencode(params).encode()))


def form(delivery: Delivery) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(delivery.body.decode()).items()}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- sending ---------------------------------------------------------------------------------


async def test_a_message_reaches_twilio_as_its_api_expects(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    receipt = await provider(api_url, http).send_message(sms())

    [message] = fake.messages
    assert (message.to, message.from_, message.body) == (PATIENT, CLINIC, BODY)
    assert message.status_callback == f"{WEBHOOK}/status"
    assert receipt.message_id == message.sid and receipt.status == "queued"
    [request] = fake.requests
    assert (request.method, request.path) == (
        "POST",
        f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
    )
    assert request.username == ACCOUNT and request.authenticated
    assert request.form == {
        "To": PATIENT,
        "From": CLINIC,
        "Body": BODY,
        "StatusCallback": f"{WEBHOOK}/status",
    }


async def test_the_platforms_status_callback_url_is_used_when_given(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    callback = f"{WEBHOOK}/status?job=7"
    await provider(api_url, http).send_message(sms(status_callback_url=callback))
    assert fake.messages[0].status_callback == callback


async def test_a_messaging_service_chooses_the_sender(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    receipt = await provider(api_url, http, from_number=SERVICE).send_message(sms())

    form_sent = fake.requests[0].form
    assert form_sent["MessagingServiceSid"] == SERVICE and "From" not in form_sent
    assert receipt.status == "accepted"  # Twilio picks the number later
    assert fake.messages[0].messaging_service_sid == SERVICE


async def test_a_retry_after_a_lost_answer_returns_the_message_already_sent(
    fake: FakeTwilio, api_url: str, impatient: httpx.AsyncClient
) -> None:
    twilio = provider(api_url, impatient)
    fake.lose_next_response(delay=1.0)
    with pytest.raises(TemporaryFailure):
        await twilio.send_message(sms(attempt=1))

    receipt = await twilio.send_message(sms(attempt=2))

    [message] = fake.messages
    assert receipt.message_id == message.sid
    lookup = fake.requests[-1]
    assert lookup.method == "GET" and lookup.query == {"To": PATIENT, "PageSize": "20"}


async def test_a_retry_sends_when_no_earlier_attempt_got_through(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    twilio = provider(api_url, http)
    await twilio.send_message(sms(body="Your appointment on Monday is confirmed."))
    await provider(api_url, http, from_number=SERVICE).send_message(sms())

    receipt = await twilio.send_message(sms(attempt=3))

    assert len(fake.messages) == 3  # neither the other body nor the other sender matched
    assert receipt.message_id == fake.messages[-1].sid
    assert [r.method for r in fake.requests] == ["POST", "POST", "GET", "POST"]


async def test_a_failed_lookup_is_retried_later_without_sending(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    fake.faults.fail_next(status=503)
    with pytest.raises(TemporaryFailure):
        await provider(api_url, http).send_message(sms(attempt=2))
    assert fake.messages == []


async def test_an_unsubscribed_recipient_is_reported_as_opted_out(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    fake.unsubscribe(PATIENT)
    with pytest.raises(PermanentFailure) as caught:
        await provider(api_url, http).send_message(sms())
    assert caught.value.code == PermanentFailure.OPTED_OUT
    assert "21610" in caught.value.reason and PATIENT not in caught.value.reason


async def test_an_invalid_number_fails_for_good_without_repeating_it(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    with pytest.raises(PermanentFailure) as caught:
        await provider(api_url, http).send_message(sms(to="+44 7700 900123"))
    failure = caught.value
    assert failure.code == "twilio_21211" and "21211" in failure.reason
    assert "7700" not in str(failure) and "7700" not in repr(failure.args)
    assert failure.__cause__ is None and failure.__suppress_context__  # the SDK quotes it


async def test_wrong_credentials_fail_for_good(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    with pytest.raises(PermanentFailure) as caught:
        await provider(api_url, http, auth_token="e" * 32).send_message(sms())
    assert caught.value.code == "twilio_20003"
    assert not fake.requests[0].authenticated and fake.messages == []


async def test_throttling_is_retried_after_the_delay_twilio_asks_for(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    fake.faults.throttle_next(retry_after=7)
    with pytest.raises(TemporaryFailure) as caught:
        await provider(api_url, http).send_message(sms())
    assert caught.value.retry_after == 7 and "429" in caught.value.reason


async def test_an_outage_is_retried(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    fake.faults.fail_next(status=503)
    with pytest.raises(TemporaryFailure) as caught:
        await provider(api_url, http).send_message(sms())
    assert caught.value.retry_after is None and "503" in caught.value.reason


async def test_a_timeout_is_retried(
    fake: FakeTwilio, api_url: str, impatient: httpx.AsyncClient
) -> None:
    fake.faults.time_out_next(delay=1.0)
    with pytest.raises(TemporaryFailure, match="in time"):
        await provider(api_url, impatient).send_message(sms())


async def test_an_unreachable_api_is_retried(http: httpx.AsyncClient) -> None:
    with pytest.raises(TemporaryFailure, match="could not reach Twilio"):
        await provider(f"http://127.0.0.1:{closed_port()}", http).send_message(sms())


# --- erasing (plugin API 1.2) ----------------------------------------------------------------


def erasure(sid: str) -> MessageErasure:
    return MessageErasure(message_id=sid, idempotency_key="job-erase")


async def test_erasing_a_text_deletes_it_at_twilio_and_again_succeeds(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    twilio = provider(api_url, http)
    kept = await twilio.send_message(sms(body="Another clinic's text"))
    sent = await twilio.send_message(sms())
    await twilio.erase_message(erasure(sent.message_id))
    assert [m.sid for m in fake.messages] == [kept.message_id]
    await twilio.erase_message(erasure(sent.message_id))  # gone already: Twilio's 404 is fine
    deletes = [r for r in fake.requests if r.method == "DELETE"]
    path = f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sent.message_id}.json"
    assert [r.path for r in deletes] == [path, path]
    assert all(r.username == ACCOUNT and r.authenticated and not r.form for r in deletes)
    assert isinstance(twilio, SmsErasingProvider)


async def test_an_erasure_twilio_refuses_for_now_is_retried_and_a_wrong_token_is_not(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    sent = await provider(api_url, http).send_message(sms())
    fake.faults.throttle_next(retry_after=5)
    with pytest.raises(TemporaryFailure) as later:
        await provider(api_url, http).erase_message(erasure(sent.message_id))
    assert later.value.retry_after == 5
    with pytest.raises(PermanentFailure, match="Account SID or Auth Token") as refused:
        await provider(api_url, http, auth_token="e" * 32).erase_message(erasure(sent.message_id))
    assert PATIENT not in refused.value.reason
    assert len(fake.messages) == 1  # still there: the job tries again, or staff fix the token


def test_a_message_twilio_is_still_sending_is_erased_later() -> None:
    """Twilio's error 20009: a message cannot be deleted before it is complete."""
    busy = TwilioRestException(409, "/Messages/SM1.json", "Cannot delete", code=20009)
    failure = provider_error(busy)
    assert isinstance(failure, TemporaryFailure) and "20009" in failure.reason


# --- webhooks --------------------------------------------------------------------------------


async def test_delivery_reports_arrive_signed_and_parse(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    twilio = provider(api_url, http)
    receipt = await twilio.send_message(sms())

    updates = [twilio.parse_webhook(webhook(d)) for d in fake.webhooks.deliveries]

    assert updates == [
        SmsStatusUpdate(
            event_id=f"{receipt.message_id}:{status}", message_id=receipt.message_id, status=status
        )
        for status in ("queued", "sent", "delivered")
    ]


@pytest.mark.parametrize(("error_code", "opted_out"), [(21610, True), (30003, False)])
async def test_an_undelivered_report_says_whether_the_recipient_opted_out(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient, error_code: int, opted_out: bool
) -> None:
    fake.fail_delivery(PATIENT, error_code)
    twilio = provider(api_url, http)
    await twilio.send_message(sms())

    last = twilio.parse_webhook(webhook(fake.webhooks.deliveries[-1]))

    assert isinstance(last, SmsStatusUpdate)
    assert (last.status, last.error_code, last.opted_out) == (
        "undelivered",
        str(error_code),
        opted_out,
    )


async def test_a_stop_reply_parses_and_unsubscribes_at_twilio(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    twilio = provider(api_url, http)
    delivery = await fake.send_inbound(PATIENT, CLINIC, "STOP")

    inbound = twilio.parse_webhook(webhook(delivery))

    assert delivery.url == f"{WEBHOOK}/inbound"
    assert inbound == SmsInbound(event_id=fake.messages[0].sid, from_number=PATIENT, body="STOP")
    assert form(delivery)["SmsStatus"] == "received"
    with pytest.raises(PermanentFailure) as caught:
        await twilio.send_message(sms())
    assert caught.value.code == PermanentFailure.OPTED_OUT


async def test_webhooks_twilio_did_not_sign_are_rejected(
    fake: FakeTwilio, api_url: str, http: httpx.AsyncClient
) -> None:
    twilio = provider(api_url, http)
    delivery = await fake.send_inbound(PATIENT, CLINIC, "HELP")
    genuine = webhook(delivery)
    forged = signed(form(delivery), topic="inbound", token="e" * 32)
    unsigned = dict(genuine.headers)
    del unsigned["x-twilio-signature"]
    tampered = genuine.body.replace(b"HELP", b"START")
    shared_key = {
        **genuine.headers,
        "x-twilio-webhooks-signature-settings": "key=KS1,algorithm=HMAC_SHA256",
    }

    for request, why in [
        (forged, "does not match"),
        (dataclasses.replace(genuine, url=genuine.url.replace("alpha", "beta")), "does not match"),
        (dataclasses.replace(genuine, body=tampered), "does not match"),
        (dataclasses.replace(genuine, headers=unsigned), "no X-Twilio-Signature"),
        (dataclasses.replace(genuine, headers=shared_key), "SharedKey"),
    ]:
        with pytest.raises(WebhookRejected, match=why):
            twilio.parse_webhook(request)


@pytest.mark.parametrize(
    ("params", "topic", "why"),
    [
        ({"AccountSid": ACCOUNT, "MessageStatus": "sent"}, "status", "MessageSid"),
        (
            {"AccountSid": ACCOUNT, "MessageSid": "SM123", "MessageStatus": "sent"},
            "status",
            "MessageSid",
        ),
        ({"AccountSid": ACCOUNT, "MessageSid": "SM" + "c" * 32}, "status", "MessageStatus"),
        ({"AccountSid": ACCOUNT, "MessageSid": "SM" + "c" * 32, "Body": "Hi"}, "inbound", "From"),
        ({"AccountSid": "AC" + "d" * 32, "MessageSid": "SM" + "c" * 32}, "status", "another"),
    ],
)
def test_signed_but_malformed_webhooks_are_rejected(
    api_url: str, http: httpx.AsyncClient, params: dict[str, str], topic: str, why: str
) -> None:
    twilio = provider(api_url, http)
    with pytest.raises(WebhookRejected, match=why):
        twilio.parse_webhook(signed(params, topic=topic))


def test_an_unknown_topic_is_ignored_once_verified(api_url: str, http: httpx.AsyncClient) -> None:
    twilio = provider(api_url, http)
    params = {"AccountSid": ACCOUNT, "MessageSid": "SM" + "c" * 32}
    assert twilio.parse_webhook(signed(params, topic="fallback")) is None
    with pytest.raises(WebhookRejected):
        twilio.parse_webhook(signed(params, topic="fallback", token="e" * 32))


def test_twilio_is_answered_with_empty_twiml(api_url: str, http: httpx.AsyncClient) -> None:
    reply = provider(api_url, http).webhook_reply
    assert reply.media_type == "text/xml"
    assert reply.body == b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def test_a_pushing_fake_posts_webhooks_the_receiver_can_verify(
    http: httpx.AsyncClient,
) -> None:
    received: list[WebhookRequest] = []

    async def receive(request: Request) -> PlainTextResponse:
        headers = {k.lower(): v for k, v in request.headers.items()}
        topic = request.path_params["topic"]
        received.append(
            WebhookRequest(
                str(request.url), headers, await request.body(), topic, datetime.now(UTC)
            )
        )
        return PlainTextResponse("")

    receiver = Starlette(routes=[Route("/hooks/{topic}", receive, methods=["POST"])])
    fake = FakeTwilio(push=True)
    fake.add_account(ACCOUNT, TOKEN)
    with harness.serve(receiver) as receiver_url, harness.serve(fake.app) as api_url:
        fake.add_number(CLINIC, f"{receiver_url}/hooks/inbound")
        twilio = provider(api_url, http)
        await twilio.send_message(sms(status_callback_url=f"{receiver_url}/hooks/status"))
        await fake.send_inbound(PATIENT, CLINIC, "HELP")
        deadline = time.monotonic() + 5  # the status callbacks follow the API's answer
        while len(fake.webhooks.deliveries) < 4 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)

    parsed = [twilio.parse_webhook(r) for r in received]
    assert sorted(type(p).__name__ for p in parsed) == ["SmsInbound"] + ["SmsStatusUpdate"] * 3
    assert all(d.status == 200 for d in fake.webhooks.deliveries)


# --- the fake keeps to Twilio's contract -----------------------------------------------------


@pytest.fixture
async def rest(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    base = f"{api_url}/2010-04-01/Accounts/{ACCOUNT}"
    async with httpx.AsyncClient(base_url=base, auth=(ACCOUNT, TOKEN), timeout=5) as client:
        yield client


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"From": CLINIC, "Body": "Hi"}, 21604),
        ({"To": "07700900123", "From": CLINIC, "Body": "Hi"}, 21211),
        ({"To": PATIENT, "Body": "Hi"}, 21603),
        ({"To": PATIENT, "MessagingServiceSid": "MG1", "Body": "Hi"}, 21705),
        ({"To": PATIENT, "From": CLINIC}, 21602),
        ({"To": PATIENT, "From": CLINIC, "Body": "x" * 1601}, 21617),
        ({"To": PATIENT, "From": CLINIC, "Body": "Hi", "StatusCallback": "ftp://x"}, 21609),
    ],
)
async def test_the_fake_validates_a_new_message_as_twilio_does(
    fake: FakeTwilio, rest: httpx.AsyncClient, fields: dict[str, str], code: int
) -> None:
    response = await rest.post("/Messages.json", data=fields)
    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "message": response.json()["message"],
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }
    assert fake.messages == []


async def test_the_fake_answers_a_new_message_in_the_contracts_shape(
    fake: FakeTwilio, rest: httpx.AsyncClient
) -> None:
    response = await rest.post(
        "/Messages.json", data={"To": PATIENT, "From": CLINIC, "Body": "ł" * 71}
    )
    created = response.json()
    assert response.status_code == 201
    assert created["sid"].startswith("SM") and len(created["sid"]) == 34
    assert (created["status"], created["direction"], created["num_segments"]) == (
        "queued",
        "outbound-api",
        "2",
    )
    assert created["date_created"].endswith("+0000") and created["date_sent"] is None
    assert created["uri"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{created['sid']}.json"
    fetched = (await rest.get(f"/Messages/{created['sid']}.json")).json()
    assert fetched["status"] == "delivered" and fetched["date_sent"] is not None


async def test_the_fake_refuses_bad_credentials_with_twilios_error(
    fake: FakeTwilio, api_url: str
) -> None:
    async with httpx.AsyncClient(auth=(ACCOUNT, "e" * 32)) as client:
        response = await client.get(f"{api_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json")
    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


async def test_the_fake_answers_an_unknown_message_with_20404(
    fake: FakeTwilio, rest: httpx.AsyncClient
) -> None:
    response = await rest.get(f"/Messages/SM{'0' * 32}.json")
    assert response.status_code == 404 and response.json()["code"] == 20404


async def test_the_fake_deletes_a_message_as_twilio_does(
    fake: FakeTwilio, rest: httpx.AsyncClient
) -> None:
    created = await rest.post("/Messages.json", data={"To": PATIENT, "From": CLINIC, "Body": "Hi"})
    sid = created.json()["sid"]
    deleted = await rest.delete(f"/Messages/{sid}.json")
    assert deleted.status_code == 204 and deleted.content == b""
    assert fake.messages == []
    for gone in (
        await rest.get(f"/Messages/{sid}.json"),
        await rest.delete(f"/Messages/{sid}.json"),
    ):
        assert gone.status_code == 404
        assert gone.json() == {
            "code": 20404,
            "message": f"The requested resource /2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json "
            "was not found",
            "more_info": "https://www.twilio.com/docs/errors/20404",
            "status": 404,
        }


async def test_the_fake_filters_and_pages_newest_first(
    fake: FakeTwilio, rest: httpx.AsyncClient, api_url: str
) -> None:
    for n in range(5):
        await rest.post(
            "/Messages.json", data={"To": PATIENT, "From": CLINIC, "Body": f"Reminder {n}"}
        )
    await rest.post("/Messages.json", data={"To": "+447700900999", "From": CLINIC, "Body": "Other"})
    today = datetime.now(UTC).date()

    first = (await rest.get("/Messages.json", params={"To": PATIENT, "PageSize": 2})).json()
    second = (await rest.get(api_url + first["next_page_uri"])).json()

    assert [m["body"] for m in first["messages"]] == ["Reminder 4", "Reminder 3"]
    assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 2, 0, 1)
    assert first["previous_page_uri"] is None
    assert [m["body"] for m in second["messages"]] == ["Reminder 2", "Reminder 1"]
    assert second["page"] == 1 and second["previous_page_uri"] is not None
    sent_today = await rest.get("/Messages.json", params={"From": CLINIC, "DateSent>": str(today)})
    assert len(sent_today.json()["messages"]) == 6
    tomorrow = str(today + timedelta(days=1))
    assert (await rest.get("/Messages.json", params={"DateSent>": tomorrow})).json()[
        "messages"
    ] == []

    sdk = Client(ACCOUNT, TOKEN, http_client=HttpxTwilioClient(rest, api_url))
    every = await sdk.messages.list_async(to=PATIENT, page_size=2)  # follows next_page_uri
    assert [m.body for m in every] == [f"Reminder {n}" for n in (4, 3, 2, 1, 0)]


@pytest.fixture
def sandbox(fake: FakeTwilio) -> Iterator[str]:
    """The fake mounted as the development sandbox mounts it; its address."""
    with harness.serve(Starlette(routes=[Mount("/-/sandbox/twilio", app=fake.app)])) as url:
        yield f"{url}/-/sandbox/twilio"


async def test_the_sandbox_shows_each_phones_messages_and_replies_from_it(
    fake: FakeTwilio, sandbox: str, http: httpx.AsyncClient
) -> None:
    await provider(sandbox, http).send_message(sms(body="See you <b>soon</b>"))
    inbox = await http.get(f"{sandbox}/inbox")
    phone = await http.get(f"{sandbox}/inbox/%2B447700900123")
    reply = await http.post(f"{sandbox}/inbox/%2B447700900123", data={"to": CLINIC, "body": "STOP"})

    assert (
        "Sandbox" in inbox.text and 'href="/-/sandbox/twilio/inbox/%2B447700900123"' in inbox.text
    )
    assert "See you &lt;b&gt;soon&lt;/b&gt;" in phone.text
    assert f'action="{sandbox}/inbox/%2B447700900123"' in phone.text
    assert 'value="STOP"' in phone.text
    for page in (inbox.text, phone.text):
        assert "<script" not in page and "style" not in page
    assert (
        reply.status_code == 303 and reply.headers["location"] == f"{sandbox}/inbox/%2B447700900123"
    )
    assert fake.webhooks.deliveries[-1].url == f"{WEBHOOK}/inbound"
    assert form(fake.webhooks.deliveries[-1])["Body"] == "STOP"


async def test_the_sandbox_no_longer_shows_an_erased_message(
    fake: FakeTwilio, sandbox: str, http: httpx.AsyncClient
) -> None:
    twilio = provider(sandbox, http)
    kept = await twilio.send_message(sms(body="Your reminder for Tuesday"))
    erased = await twilio.send_message(sms(to="+447700900456", body="Your booking is made"))
    await twilio.erase_message(erasure(erased.message_id))
    inbox = await http.get(f"{sandbox}/inbox")
    phone = await http.get(f"{sandbox}/inbox/%2B447700900456")
    assert kept.message_id in [m.sid for m in fake.messages]
    assert "+447700900123" in inbox.text and "+447700900456" not in inbox.text
    assert "Your booking is made" not in phone.text and "This phone has no messages." in phone.text


# --- the plugin as the platform sees it ------------------------------------------------------


def test_the_plugin_registers_a_provider_of_the_sms_protocol(
    api_url: str, http: httpx.AsyncClient
) -> None:
    assert sms_twilio.praxis_register_providers() is TwilioSms
    assert isinstance(provider(api_url, http), SmsProvider)
    extra = TwilioSettings.model_fields["api_base_url"].json_schema_extra
    assert extra == OPERATOR_ONLY


def test_settings_refuse_a_wrong_token_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as caught:
        TwilioSettings(account_sid=ACCOUNT, auth_token="not-my-real-token", from_number=CLINIC)
    assert "not-my-real-token" not in str(caught.value)
    with pytest.raises(ValidationError):
        TwilioSettings(account_sid=ACCOUNT, auth_token=TOKEN, from_number="07700 900000")


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds("12") == 12
    assert 25 < (retry_after_seconds(later) or 0) <= 30
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
