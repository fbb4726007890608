"""A fake Twilio Messages API, shaped by Twilio's OpenAPI contract (the Messages paths).

Tests serve it with ``harness.start(fake.app)`` and point the real SDK at it; the development
sandbox mounts the same app under ``/-/sandbox/twilio``, where ``/inbox`` shows what each
phone received and lets you reply from it (STOP, HELP, START...). Control it from Python::

    fake = FakeTwilio()                              # push=True posts webhooks for real
    fake.add_account(ACCOUNT_SID, AUTH_TOKEN)
    fake.add_number("+447700900000", "https://clinic.example/-/plugins/sms_twilio/webhook/inbound")
    fake.unsubscribe("+447700900999")                # a send to it fails with 21610
    fake.fail_delivery("+447700900123", 30003)       # sent, but it ends undelivered
    fake.faults.throttle_next()                      # the next API call gets a 429
    fake.lose_next_response()                        # done, but answered too late
    await fake.send_inbound("+447700900123", "+447700900000", "STOP")
    fake.messages, fake.requests, fake.webhooks.deliveries
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import math
import operator
import re
import threading
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http import HTTPStatus
from urllib.parse import quote, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from tests.fakes.harness import Delivery, Fault, Faults, Webhooks

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
MAX_BODY = 1600
# Twilio's default opt-out handling: these replies unsubscribe, and these subscribe again.
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "YES", "UNSTOP"}
POOL_SENDER = "+15005550006"  # what a Messaging Service sends from when no number is added
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment else None


def segments(body: str) -> int:
    """How many SMS segments ``body`` takes: GSM-7 160/153 characters, else UCS-2 70/67."""
    if all(c in _GSM or c in _GSM_EXTENDED for c in body):
        units, single, part = len(body) + sum(c in _GSM_EXTENDED for c in body), 160, 153
    else:
        units, single, part = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / part)


@dataclass
class FakeMessage:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    direction: str  # outbound-api or inbound
    status: str
    messaging_service_sid: str
    status_callback: str | None = None
    num_segments: int = 1
    error_code: int | None = None
    date_created: datetime = field(default_factory=_now)
    date_sent: datetime | None = None
    date_updated: datetime = field(default_factory=_now)

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def resource(self) -> dict[str, object]:
        """The ``api.v2010.account.message`` shape."""
        sub = self.uri.removesuffix(".json")
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": _rfc2822(self.date_created),
            "date_sent": _rfc2822(self.date_sent),
            "date_updated": _rfc2822(self.date_updated),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": "Unknown error" if self.error_code else None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{sub}/Media.json", "feedback": f"{sub}/Feedback.json"},
            "to": self.to,
            "uri": self.uri,
        }


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str  # from the API root, e.g. /2010-04-01/Accounts/AC.../Messages.json
    query: dict[str, str]
    form: dict[str, str]
    username: str | None  # the basic-auth user: the Account SID
    authenticated: bool


@dataclass(frozen=True)
class ClinicNumber:
    number: str
    sms_url: str  # its "A message comes in" webhook
    account_sid: str
    messaging_service_sid: str | None = None


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if self.status == 401 else {}
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        return JSONResponse(body, status_code=self.status, headers=headers)


class NotModelled(TwilioError):
    """A request the fake cannot answer as Twilio would: fail loudly rather than guess."""

    def __init__(self, what: str) -> None:
        super().__init__(501, 0, f"the fake Twilio does not model {what}")


Endpoint = Callable[[Request, str, FormData], Awaitable[Response]]


class FakeTwilio:
    def __init__(self, *, push: bool = False) -> None:
        self.faults = Faults()
        self.webhooks = Webhooks()
        self.push = push  # POST webhooks to their URLs (the sandbox), not only record them
        self._lock = threading.RLock()
        self._accounts: dict[str, str] = {}
        self._numbers: dict[str, ClinicNumber] = {}
        self._messages: list[FakeMessage] = []
        self._requests: list[ReceivedRequest] = []
        self._unsubscribed: set[str] = set()
        self._failing: dict[str, int] = {}
        self._late: deque[float] = deque()
        self.app = Starlette(routes=self._routes())

    # --- control --------------------------------------------------------------------------

    def add_account(self, account_sid: str, auth_token: str) -> None:
        with self._lock:
            self._accounts[account_sid] = auth_token

    def add_number(
        self,
        number: str,
        sms_url: str,
        *,
        account_sid: str | None = None,
        messaging_service_sid: str | None = None,
    ) -> None:
        """A clinic's Twilio number and its incoming-message webhook (latest account if None)."""
        with self._lock:
            owner = account_sid or next(reversed(self._accounts), None)
            if owner not in self._accounts:
                raise ValueError("add_account() before add_number()")
            self._numbers[number] = ClinicNumber(number, sms_url, owner, messaging_service_sid)

    def unsubscribe(self, number: str) -> None:
        with self._lock:
            self._unsubscribed.add(number)

    def resubscribe(self, number: str) -> None:
        with self._lock:
            self._unsubscribed.discard(number)

    def fail_delivery(self, number: str, error_code: int = 30003) -> None:
        """Messages to ``number`` are sent but end ``undelivered`` with ``error_code``."""
        with self._lock:
            self._failing[number] = error_code

    def lose_next_response(self, count: int = 1, *, delay: float = 1.0) -> None:
        """The next calls are carried out, but answered only after ``delay`` seconds."""
        with self._lock:
            self._late.extend([delay] * count)

    @property
    def messages(self) -> list[FakeMessage]:
        with self._lock:
            return list(self._messages)

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Forget messages, requests, deliveries, faults and opt-outs; keep accounts and numbers."""
        with self._lock:
            self._messages.clear()
            self._requests.clear()
            self._unsubscribed.clear()
            self._failing.clear()
            self._late.clear()
        self.faults.clear()
        self.webhooks.clear()

    async def send_inbound(self, from_number: str, to_number: str, body: str) -> Delivery:
        """Someone texts ``body`` from their phone to a clinic number (see ``add_number``)."""
        with self._lock:
            clinic = self._numbers.get(to_number)
            if clinic is None:
                raise ValueError("add_number() the clinic's number first")
            message = FakeMessage(
                sid=_sid("SM"),
                account_sid=clinic.account_sid,
                to=to_number,
                from_=from_number,
                body=body,
                direction="inbound",
                status="received",
                messaging_service_sid=clinic.messaging_service_sid
                or _default_service(clinic.account_sid),
                num_segments=segments(body),
                date_sent=_now(),
            )
            self._messages.append(message)
            keyword = body.strip().upper()
            if keyword in OPT_OUT_WORDS:
                self._unsubscribed.add(from_number)
            elif keyword in OPT_IN_WORDS:
                self._unsubscribed.discard(from_number)
        params = {
            "AccountSid": clinic.account_sid,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": from_number,
            "MessageSid": message.sid,
            "NumMedia": "0",
            "NumSegments": str(message.num_segments),
            "SmsMessageSid": message.sid,
            "SmsSid": message.sid,
            "SmsStatus": "received",
            "To": to_number,
        }
        if clinic.messaging_service_sid:
            params["MessagingServiceSid"] = clinic.messaging_service_sid
        url, headers, signed_body = self._signed(clinic.account_sid, clinic.sms_url, params)
        return await self.webhooks.deliver(url, headers, signed_body, push=self.push)

    # --- the API --------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        messages = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json"
        message = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages/{{sid}}.json"
        return [
            Route(messages, self._api(self._create), methods=["POST"]),
            Route(messages, self._api(self._list), methods=["GET"]),
            Route(message, self._api(self._fetch), methods=["GET"]),
            Route(message, self._api(self._update), methods=["POST"]),
            Route(message, self._api(self._delete), methods=["DELETE"]),
            Route("/inbox", self._inbox, methods=["GET"]),
            Route("/inbox/{number}", self._phone, methods=["GET"]),
            Route("/inbox/{number}", self._reply, methods=["POST"]),
        ]

    def _api(self, handler: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        """Log, inject faults, authenticate, then answer (late, if told to lose the answer)."""

        async def endpoint(request: Request) -> Response:
            form = await request.form() if request.method == "POST" else FormData()
            username, authenticated = self._authenticate(request)
            self._log(request, form, username, authenticated)
            faulty = await self.faults.inject(request, {}, respond=_fault_response)
            if faulty is not None:
                return faulty
            try:
                if not authenticated or username != request.path_params["account_sid"]:
                    raise TwilioError(401, 20003, "Authenticate")
                response = await handler(request, request.path_params["account_sid"], form)
            except TwilioError as exc:
                response = exc.response()
            with self._lock:
                late = self._late.popleft() if self._late else None
            if late is not None:
                await asyncio.sleep(late)
            return response

        return endpoint

    def _authenticate(self, request: Request) -> tuple[str | None, bool]:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None, False
        try:
            username, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, False
        with self._lock:
            token = self._accounts.get(username)
        return username, token is not None and hmac.compare_digest(token, password)

    def _log(
        self, request: Request, form: FormData, username: str | None, authenticated: bool
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
        with self._lock:
            self._requests.append(received)

    async def _create(self, request: Request, account: str, form: FormData) -> Response:
        to, sender, service = (
            _text(form, "To"),
            _text(form, "From"),
            _text(form, "MessagingServiceSid"),
        )
        body, callback = _text(form, "Body") or "", _text(form, "StatusCallback")
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
        with self._lock:
            if to in self._unsubscribed:
                raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
            message = FakeMessage(
                sid=_sid("SM"),
                account_sid=account,
                to=to,
                from_=sender,
                body=body,
                direction="outbound-api",
                # through a Messaging Service it is accepted first, its sender chosen later
                status="queued" if sender else "accepted",
                messaging_service_sid=service or _default_service(account),
                status_callback=callback,
                num_segments=segments(body) if sender else 0,
            )
            self._messages.append(message)
            answer = message.resource()
            callbacks = [self._signed(account, *c) for c in self._progress(message)]
        response = JSONResponse(answer, status_code=201)
        if self.push:  # Twilio calls back after it has answered
            response.background = BackgroundTask(self._deliver_all, callbacks)
        else:
            await self._deliver_all(callbacks)
        return response

    def _progress(self, message: FakeMessage) -> list[tuple[str, dict[str, str]]]:
        """Take a new message to its last status; the status callbacks Twilio would make."""
        failure = self._failing.get(message.to)
        callbacks = []
        for status in ("queued", "sent", "undelivered" if failure else "delivered"):
            if message.from_ is None:
                message.from_ = self._pool_sender(message.messaging_service_sid)
                message.num_segments = segments(message.body)
            message.status, message.date_updated = status, _now()
            if status == "sent":
                message.date_sent = message.date_updated
            if status == "undelivered":
                message.error_code = failure
            if message.status_callback:
                callbacks.append((message.status_callback, _status_params(message)))
        return callbacks

    def _pool_sender(self, service: str) -> str:
        found = (n.number for n in self._numbers.values() if n.messaging_service_sid == service)
        return next(found, POOL_SENDER)

    async def _deliver_all(self, callbacks: list[tuple[str, dict[str, str], bytes]]) -> None:
        for url, headers, body in callbacks:
            await self.webhooks.deliver(url, headers, body, push=self.push)

    def _signed(
        self, account: str, url: str, params: dict[str, str]
    ) -> tuple[str, dict[str, str], bytes]:
        """A webhook as Twilio sends it: form-encoded, signed with the account's Auth Token."""
        with self._lock:
            token = self._accounts[account]
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": RequestValidator(token).compute_signature(url, params),
            "i-twilio-idempotency-token": str(uuid.uuid4()),
            "user-agent": "TwilioProxy/1.1",
        }
        return url, headers, urlencode(params).encode()

    async def _list(self, request: Request, account: str, form: FormData) -> Response:
        query = request.query_params
        page_size, page = (
            _whole(query.get("PageSize", "50"), 1, 1000),
            _whole(query.get("Page", "0"), 0),
        )
        filters = [(name, query[name]) for name in _FILTERS if name in query]
        tests = [_filter(name, value) for name, value in filters]
        with self._lock:
            found = [
                m
                for m in reversed(self._messages)
                if m.account_sid == account and all(test(m) for test in tests)
            ]
        start = _page_start(found, query.get("PageToken"), page * page_size, page_size)
        chunk = found[start : start + page_size]
        path = f"/{API_VERSION}/Accounts/{account}/Messages.json"

        def uri(*extra: tuple[str, object]) -> str:
            return f"{path}?{urlencode([*filters, ('PageSize', page_size), *extra])}"

        current = [("Page", page)] + (
            [("PageToken", query["PageToken"])] if "PageToken" in query else []
        )
        more = start + page_size < len(found)
        return JSONResponse(
            {
                "end": start + len(chunk) - 1 if chunk else start,
                "first_page_uri": uri(("Page", 0)),
                "messages": [m.resource() for m in chunk],
                "next_page_uri": uri(("Page", page + 1), ("PageToken", f"PA{chunk[-1].sid}"))
                if chunk and more
                else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": uri(
                    ("Page", max(page - 1, 0)), ("PageToken", f"PB{chunk[0].sid}")
                )
                if chunk and start > 0
                else None,
                "start": start,
                "uri": uri(*current),
            }
        )

    def _find(self, request: Request, account: str) -> FakeMessage:
        sid = request.path_params["sid"]
        with self._lock:
            for message in self._messages:
                if message.sid == sid and message.account_sid == account:
                    return message
        path = f"/{API_VERSION}/Accounts/{account}/Messages/{sid}.json"
        raise TwilioError(404, 20404, f"The requested resource {path} was not found")

    async def _fetch(self, request: Request, account: str, form: FormData) -> Response:
        return JSONResponse(self._find(request, account).resource())

    async def _update(self, request: Request, account: str, form: FormData) -> Response:
        message = self._find(request, account)
        body, status = _text(form, "Body"), _text(form, "Status")
        if body:
            raise NotModelled("changing a body to anything but '' (redaction)")
        with self._lock:
            if status == "canceled":
                if message.status != "scheduled":
                    raise TwilioError(400, 30409, "Message cannot be canceled")
                message.status = "canceled"
            if body == "":
                message.body = ""
            message.date_updated = _now()
            return JSONResponse(message.resource())

    async def _delete(self, request: Request, account: str, form: FormData) -> Response:
        message = self._find(request, account)
        with self._lock:
            self._messages.remove(message)
        return Response(status_code=204)

    # --- the sandbox pages ----------------------------------------------------------------

    async def _inbox(self, request: Request) -> Response:
        with self._lock:
            outbound = [m for m in reversed(self._messages) if m.direction != "inbound"]
        phones = list(dict.fromkeys(m.to for m in outbound))
        root = request.scope.get("root_path", "")
        items = "".join(
            f'<li><a href="{html.escape(root)}/inbox/{quote(phone, safe="")}">'
            f"{html.escape(phone)}</a></li>"
            for phone in phones
        )
        content = f"<ul>{items}</ul>" if items else "<p>No message has been sent yet.</p>"
        return _page(request, "Phones that received messages", content)

    async def _phone(self, request: Request) -> Response:
        phone = request.path_params["number"]
        with self._lock:
            talk = [m for m in reversed(self._messages) if phone in (m.to, m.from_)]
            numbers = set(self._numbers)
        clinics = list(dict.fromkeys(m.from_ for m in talk if m.to == phone and m.from_ in numbers))
        rows = "".join(_conversation_row(m, phone) for m in talk)
        history = f"<ol>{rows}</ol>" if rows else "<p>This phone has no messages.</p>"
        action = html.escape(_phone_url(request, phone))
        return _page(request, f"Messages on {phone}", history + _reply_forms(action, clinics))

    async def _reply(self, request: Request) -> Response:
        phone = request.path_params["number"]
        form = await request.form()
        to, body = _text(form, "to") or "", (_text(form, "body") or "").strip()
        with self._lock:
            known = to in self._numbers
        if not E164.match(phone) or not known or not body or len(body) > MAX_BODY:
            explain = "<p>Choose a clinic number and write 1 to 1600 characters.</p>"
            return _page(request, "Reply not sent", explain, 400)
        await self.send_inbound(phone, to, body)
        return RedirectResponse(_phone_url(request, phone), status_code=303)


_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _default_service(account: str) -> str:
    """The contract: "a unique default value is assigned if a Messaging Service is not used"."""
    return "MG" + hashlib.sha256(account.encode()).hexdigest()[:32]


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _is_callback_url(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and bool(host) and "_" not in host and len(url) <= 4000


def _status_params(message: FakeMessage) -> dict[str, str]:
    params = {
        "AccountSid": message.account_sid,
        "ApiVersion": API_VERSION,
        "From": message.from_ or "",
        "MessageSid": message.sid,
        "MessageStatus": message.status,
        "SmsSid": message.sid,
        "SmsStatus": message.status,
        "To": message.to,
    }
    if message.messaging_service_sid != _default_service(message.account_sid):
        params["MessagingServiceSid"] = message.messaging_service_sid
    if message.error_code:
        params["ErrorCode"] = str(message.error_code)
    return params


def _whole(value: str, low: int, high: int | None = None) -> int:
    if not value.isdigit() or int(value) < low or (high is not None and int(value) > high):
        raise NotModelled(f"the paging value {value!r}")
    return int(value)


def _page_start(found: list[FakeMessage], token: str | None, default: int, size: int) -> int:
    """Where a page starts: after (PA) or a page before (PB) the message its token names."""
    if not token:
        return default
    sids = [m.sid for m in found]
    if token[2:] not in sids:
        return len(found)
    at = sids.index(token[2:])
    return at + 1 if token.startswith("PA") else max(at - size, 0)


def _filter(name: str, value: str) -> Callable[[FakeMessage], bool]:
    if name == "To":
        return lambda m: m.to == value
    if name == "From":
        return lambda m: m.from_ == value
    compare = {"DateSent": operator.eq, "DateSent<": operator.le, "DateSent>": operator.ge}[name]
    moment = _moment(value)
    if isinstance(moment, datetime):
        return lambda m: m.date_sent is not None and compare(m.date_sent, moment)
    return lambda m: m.date_sent is not None and compare(m.date_sent.date(), moment)


def _moment(value: str) -> date | datetime:
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise NotModelled(f"the DateSent value {value!r}") from None


def _fault_response(fault: Fault) -> Response:
    """Twilio's error shape for an injected fault: 20429, 20500, 20503..."""
    response = TwilioError(
        fault.status, 20000 + fault.status, HTTPStatus(fault.status).phrase
    ).response()
    if fault.retry_after:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response


def _phone_url(request: Request, phone: str) -> str:
    """The phone's page, absolute, under wherever the sandbox is mounted."""
    path = f"{request.scope.get('root_path', '')}/inbox/{quote(phone, safe='')}"
    return str(request.url.replace(path=path, query=""))


def _conversation_row(message: FakeMessage, phone: str) -> str:
    when = html.escape(_rfc2822(message.date_created) or "")
    if message.to == phone:
        who = f"From {message.from_ or 'a Messaging Service'} ({message.status})"
    else:
        who = f"You replied to {message.to}"
    text = html.escape(message.body)
    return f"<li><p><time>{when}</time> {html.escape(who)}</p><blockquote>{text}</blockquote></li>"


def _reply_forms(action: str, clinics: list[str]) -> str:
    if not clinics:
        return "<p>No clinic number with an incoming-message webhook has texted this phone.</p>"
    options = "".join(
        f'<option value="{html.escape(c)}">{html.escape(c)}</option>' for c in clinics
    )
    quick = "".join(
        f'<button type="submit" name="body" value="{word}">Reply {word}</button> '
        for word in ("STOP", "HELP", "START")
    )
    return (
        "<h2>Reply from this phone</h2>"
        f'<form method="post" action="{action}">'
        f'<p><label for="to">To</label> <select id="to" name="to">{options}</select></p>'
        '<p><label for="body">Message</label> '
        f'<input id="body" name="body" required maxlength="{MAX_BODY}"></p>'
        '<p><button type="submit">Send reply</button></p></form>'
        f'<form method="post" action="{action}">'
        f'<input type="hidden" name="to" value="{html.escape(clinics[0])}"><p>{quick}</p></form>'
    )


def _page(request: Request, title: str, content: str, status: int = 200) -> HTMLResponse:
    inbox = html.escape(request.scope.get("root_path", "") + "/inbox")
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · Twilio sandbox</title></head><body>"
        "<header><p><strong>Sandbox.</strong> This is a fake Twilio: no text message leaves "
        "this computer, and nobody receives what is shown here.</p>"
        f'<nav><a href="{inbox}">All phones</a></nav></header>'
        f"<main><h1>{html.escape(title)}</h1>{content}</main></body></html>",
        status_code=status,
    )
