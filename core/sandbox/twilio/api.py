"""The Messages API: routes, Basic auth, faults and late answers, create, fetch, update."""

from __future__ import annotations

import asyncio
import base64
import hmac
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from praxis.core.sandbox.twilio.errors import NotModelled, TwilioError, fault_response
from praxis.core.sandbox.twilio.listing import list_messages
from praxis.core.sandbox.twilio.messages import (
    API_VERSION,
    E164,
    MAX_BODY,
    FakeMessage,
    default_service,
    new_sid,
    now,
    segments,
)
from praxis.core.sandbox.twilio.state import ReceivedRequest

if TYPE_CHECKING:
    from praxis.core.sandbox.twilio.fake import FakeTwilio

SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

Endpoint = Callable[["FakeTwilio", Request, str, FormData], Awaitable[Response]]


def routes(fake: FakeTwilio) -> list[Route]:
    messages = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json"
    message = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages/{{sid}}.json"
    return [
        Route(messages, partial(_endpoint, fake, create), methods=["POST"]),
        Route(messages, partial(_endpoint, fake, list_messages), methods=["GET"]),
        Route(message, partial(_endpoint, fake, fetch), methods=["GET"]),
        Route(message, partial(_endpoint, fake, update), methods=["POST"]),
        Route(message, partial(_endpoint, fake, delete), methods=["DELETE"]),
    ]


async def _endpoint(fake: FakeTwilio, handler: Endpoint, request: Request) -> Response:
    """Log, inject faults, authenticate, then answer (late, if told to lose the answer)."""
    form = await request.form() if request.method == "POST" else FormData()
    username, authenticated = _authenticate(fake, request)
    _log(fake, request, form, username, authenticated)
    faulty = await fake.faults.inject(request, {}, respond=fault_response)
    if faulty is not None:
        return faulty
    try:
        if not authenticated or username != request.path_params["account_sid"]:
            raise TwilioError(401, 20003, "Authenticate")
        response = await handler(fake, request, request.path_params["account_sid"], form)
    except TwilioError as exc:
        response = exc.response()
    with fake._lock:
        late = fake._late.popleft() if fake._late else None
    if late is not None:
        await asyncio.sleep(late)
    return response


def _authenticate(fake: FakeTwilio, request: Request) -> tuple[str | None, bool]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None, False
    try:
        username, _, password = base64.b64decode(encoded).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, False
    with fake._lock:
        token = fake._accounts.get(username)
    return username, token is not None and hmac.compare_digest(token, password)


def _log(
    fake: FakeTwilio, request: Request, form: FormData, username: str | None, authenticated: bool
) -> None:
    root = request.scope.get("root_path", "")
    received = ReceivedRequest(
        method=request.method,
        path=request.url.path.removeprefix(root),
        query=dict(request.query_params),
        form={k: v for k, v in form.items() if isinstance(v, str)},
        username=username,
        authenticated=authenticated,
    )
    with fake._lock:
        fake._requests.append(received)


async def create(fake: FakeTwilio, request: Request, account: str, form: FormData) -> Response:
    to, sender, service = (
        form_text(form, "To"),
        form_text(form, "From"),
        form_text(form, "MessagingServiceSid"),
    )
    body, callback = form_text(form, "Body") or "", form_text(form, "StatusCallback")
    if not to:
        raise TwilioError(400, 21604, "A 'To' phone number is required.")
    if not E164.match(to):
        raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not sender and not service:
        raise TwilioError(
            400,
            21603,
            "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
        )
    if service and not SERVICE_SID.match(service):
        raise TwilioError(400, 21705, "The Messaging Service Sid is invalid.")
    if not body and not form.getlist("MediaUrl"):
        raise TwilioError(400, 21602, "Message body is required.")
    if len(body) > MAX_BODY:
        raise TwilioError(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    if callback and not _is_callback_url(callback):
        raise TwilioError(400, 21609, "Invalid 'StatusCallback'")
    with fake._lock:
        if to in fake._unsubscribed:
            raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
        message = FakeMessage(
            sid=new_sid("SM"),
            account_sid=account,
            to=to,
            from_=sender,
            body=body,
            direction="outbound-api",
            # through a Messaging Service it is accepted first, its sender chosen later
            status="queued" if sender else "accepted",
            messaging_service_sid=service or default_service(account),
            status_callback=callback,
            num_segments=segments(body) if sender else 0,
        )
        fake._messages.append(message)
        answer = message.resource()
        callbacks = [fake._signed(account, *c) for c in fake._progress(message)]
    response = JSONResponse(answer, status_code=201)
    if fake.push:  # Twilio calls back after it has answered
        response.background = BackgroundTask(fake._deliver_all, callbacks)
    else:
        await fake._deliver_all(callbacks)
    return response


def _find(fake: FakeTwilio, request: Request, account: str) -> FakeMessage:
    sid = request.path_params["sid"]
    with fake._lock:
        for message in fake._messages:
            if message.sid == sid and message.account_sid == account:
                return message
    path = f"/{API_VERSION}/Accounts/{account}/Messages/{sid}.json"
    raise TwilioError(404, 20404, f"The requested resource {path} was not found")


async def fetch(fake: FakeTwilio, request: Request, account: str, form: FormData) -> Response:
    return JSONResponse(_find(fake, request, account).resource())


async def update(fake: FakeTwilio, request: Request, account: str, form: FormData) -> Response:
    message = _find(fake, request, account)
    body, status = form_text(form, "Body"), form_text(form, "Status")
    if body:
        raise NotModelled("changing a body to anything but '' (redaction)")
    with fake._lock:
        if status == "canceled":
            if message.status != "scheduled":
                raise TwilioError(400, 30409, "Message cannot be canceled")
            message.status = "canceled"
        if body == "":
            message.body = ""
        message.date_updated = now()
        return JSONResponse(message.resource())


async def delete(fake: FakeTwilio, request: Request, account: str, form: FormData) -> Response:
    message = _find(fake, request, account)
    with fake._lock:
        fake._messages.remove(message)
    return Response(status_code=204)


def form_text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _is_callback_url(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and bool(host) and "_" not in host and len(url) <= 4000
