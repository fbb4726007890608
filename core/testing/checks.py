"""Behavioural checks per kind: what a provider must do beyond having the right methods.

Each check talks to the provider as the platform would (through its Protocol, with the same
DTOs) and returns one sentence per problem; an empty list means it behaves. Run them
against your own fake of the service (see ``praxis.core.testing.serve``), as the built-in
plugins are run against the platform's fakes of Whereby, Twilio and Stripe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from praxis.core.providers import email, payments, sms, video
from praxis.core.providers.common import (
    DataCategory,
    Operation,
    ProviderError,
    WebhookRejected,
    WebhookRequest,
)
from praxis.core.providers.kinds import KINDS
from praxis.core.providers.results import InvalidResult, check_result
from praxis.core.testing.kit import CLINIC_URL, LoadedPlugin

Problems = list[str]


async def behaviour(
    plugin: LoadedPlugin,
    provider: Any,
    *,
    phone: str = "+447700900123",
    address: str = "patient@example.org",
    country: str = "GB",
    allow_http: bool = True,
) -> Problems:
    """The behavioural checks of the plugin's kind, against ``provider``.

    ``phone`` and ``address``: where your fake accepts a text or an email. ``allow_http``:
    whether links may be http (a local fake); a live check passes False.
    """
    kind = plugin.manifest.kind
    described = KINDS[kind]
    takes = hasattr(provider, "parse_webhook") or not described.webhooks_optional
    found = _check_webhooks(provider, plugin) if described.events and takes else []
    if kind == "video":
        found += await _video(provider, allow_http)
    elif kind == "sms":
        found += await _sms(provider, phone, allow_http)
    elif kind == "email":
        found += await _email(provider, address, allow_http)
    elif kind == "payments":
        found += await _payments(provider, country, allow_http)
    return found


async def _result(
    operation: Operation[Any, Any],
    call: Callable[[], Awaitable[Any]],
    allow_http: bool,
    found: Problems,
) -> Any:
    """Call, and note a failure or a result that does not fit the operation's DTO."""
    try:
        result = await call()
    except ProviderError as exc:
        found.append(f"{operation.name} failed: {exc.reason}")
        return None
    try:
        check_result(operation, result, allow_http=allow_http)
    except InvalidResult as exc:
        found.append(f"{operation.name}: the platform would refuse this answer: {exc}")
        return None
    return result


async def _video(provider: video.VideoProvider, allow_http: bool) -> Problems:
    found: Problems = []
    ends = datetime.now(UTC) + timedelta(hours=2)
    first = video.MeetingRequest(idempotency_key="praxis-kit-room", attempt=1, ends_at=ends)
    made = await _result(
        video.CREATE_MEETING, lambda: provider.create_meeting(first), allow_http, found
    )
    if made is None:
        return found
    retry = dataclasses.replace(first, attempt=2)
    again = await _result(
        video.CREATE_MEETING, lambda: provider.create_meeting(retry), allow_http, found
    )
    if again is not None and again.meeting_id != made.meeting_id:
        found.append(
            "create_meeting: a later attempt with the same idempotency key made a second room "
            "instead of finding the first (the answer to the first may have been lost)"
        )
    elif again is not None and again.recovered is False:
        found.append("create_meeting: a retry that found the room must say recovered=True")
    gone = video.MeetingDeletion(meeting_id=made.meeting_id, idempotency_key="praxis-kit-gone")
    await _twice(
        video.DELETE_MEETING,
        partial(provider.delete_meeting, gone),
        "deleting a room",
        allow_http,
        found,
    )
    return found


async def _twice(
    operation: Operation[Any, Any],
    call: Callable[[], Awaitable[Any]],
    doing: str,
    allow_http: bool,
    found: Problems,
) -> None:
    """Deleting something twice succeeds both times: a retry finds it already gone."""
    for time in ("first", "second"):
        await _result(operation, call, allow_http, found)
        if found and found[-1].startswith(f"{operation.name} failed"):
            found[-1] += f" ({doing} the {time} time must succeed)"
            return


async def _sms(provider: sms.SmsProvider, phone: str, allow_http: bool) -> Problems:
    found: Problems = []
    message = sms.SmsMessage(
        idempotency_key="praxis-kit-text",
        attempt=1,
        to=phone,
        body="Praxis test kit: your appointment is confirmed.",
        about=(DataCategory.APPOINTMENT,),
        first_attempt_at=datetime.now(UTC),
    )
    sent = await _result(
        sms.SEND_MESSAGE, lambda: provider.send_message(message), allow_http, found
    )
    if sent is None:
        return found
    retry = dataclasses.replace(message, attempt=2)
    again = await _result(sms.SEND_MESSAGE, lambda: provider.send_message(retry), allow_http, found)
    if again is not None and again.message_id != sent.message_id:
        found.append(
            "send_message: a later attempt with the same idempotency key sent a second text "
            "instead of finding the first"
        )
    if isinstance(provider, sms.SmsErasingProvider):  # optional, since 1.2
        gone = sms.MessageErasure(message_id=sent.message_id, idempotency_key="praxis-kit-erase")
        erase = partial(provider.erase_message, gone)
        await _twice(sms.ERASE_MESSAGE, erase, "erasing a text", allow_http, found)
    return found


async def _email(provider: email.EmailProvider, address: str, allow_http: bool) -> Problems:
    found: Problems = []
    message = email.EmailMessage(
        idempotency_key="praxis-kit-email",
        to=address,
        subject="Praxis test kit",
        text="Your appointment is confirmed.",
        sender_name="Test Clinic",
        about=(DataCategory.APPOINTMENT,),
        tenant_slug="test-clinic",
    )
    await _result(email.SEND_EMAIL, lambda: provider.send_email(message), allow_http, found)
    return found


async def _payments(
    provider: payments.PaymentsProvider, country: str, allow_http: bool
) -> Problems:
    found: Problems = []
    asked = payments.AccountRequest(idempotency_key="praxis-kit-account", country=country)
    account = await _result(
        payments.CREATE_ACCOUNT, lambda: provider.create_account(asked), allow_http, found
    )
    if account is None:
        return found
    again = await _result(
        payments.CREATE_ACCOUNT, lambda: provider.create_account(asked), allow_http, found
    )
    if again is not None and again.account_id != account.account_id:
        found.append("create_account: the same idempotency key opened a second account")
    link = payments.OnboardingRequest(
        account_id=account.account_id,
        return_url=f"{CLINIC_URL}/admin/payments?returned=1",
        refresh_url=f"{CLINIC_URL}/admin/payments",
    )
    await _result(
        payments.ONBOARDING_LINK, lambda: provider.onboarding_link(link), allow_http, found
    )
    return found


def _check_webhooks(provider: Any, plugin: LoadedPlugin) -> Problems:
    """Webhooks that are not genuine are rejected (WebhookRejected), never read or crashed on."""
    return [f"parse_webhook: {problem}" for problem in rejects_forged_webhooks(provider)]


def rejects_forged_webhooks(provider: Any) -> Problems:
    """``parse_webhook`` refuses, with WebhookRejected, requests no provider signed: no
    signature, a made-up one, and an empty body. Returns one sentence per one it let in."""
    forged = {
        "no signature": {},
        "a made-up signature": {
            "stripe-signature": "t=1,v1=" + "0" * 64,
            "x-twilio-signature": "bm90IGEgc2lnbmF0dXJl",
            "whereby-signature": "t=1,v1=" + "0" * 64,
            "x-signature": "0" * 64,
            "authorization": "Bearer forged",
        },
    }
    found: Problems = []
    for name, headers in forged.items():
        for body in (b'{"id": "evt_forged", "type": "anything"}', b""):
            if any(problem.startswith(f"a request with {name} ") for problem in found):
                break  # one sentence per kind of forgery
            request = WebhookRequest(
                url=f"{CLINIC_URL}/-/plugins/kit/webhook",
                headers=headers,
                body=body,
                topic="",
                received_at=datetime.now(UTC),
            )
            try:
                event = provider.parse_webhook(request)
            except WebhookRejected:
                continue
            except Exception as exc:  # a crash instead of a rejection: a 500 for the provider
                found.append(
                    f"a request with {name} raised {type(exc).__name__}, not WebhookRejected"
                )
                continue
            found.append(f"a request with {name} was accepted ({type(event).__name__})")
    return found
