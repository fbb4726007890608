"""FakeTwilio: accounts, clinic numbers, opt-outs, messages, and the webhooks it sends."""

from __future__ import annotations

import threading
import uuid
from collections import deque
from urllib.parse import urlencode

from starlette.applications import Starlette
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from praxis.core.sandbox.harness import Delivery, Faults, Webhooks
from praxis.core.sandbox.twilio import api, pages
from praxis.core.sandbox.twilio.messages import (
    API_VERSION,
    FakeMessage,
    default_service,
    new_sid,
    now,
    segments,
    status_params,
)
from praxis.core.sandbox.twilio.state import ClinicNumber, ReceivedRequest

# Twilio's default opt-out handling: these replies unsubscribe, and these subscribe again.
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "YES", "UNSTOP"}
POOL_SENDER = "+15005550006"  # what a Messaging Service sends from when no number is added


class FakeTwilio:
    """A stateful fake of Twilio's Messages API and an SMS inbox. ``.app`` is the ASGI app."""

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
        self.app = Starlette(routes=[*api.routes(self), *pages.routes(self)])

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
                sid=new_sid("SM"),
                account_sid=clinic.account_sid,
                to=to_number,
                from_=from_number,
                body=body,
                direction="inbound",
                status="received",
                messaging_service_sid=clinic.messaging_service_sid
                or default_service(clinic.account_sid),
                num_segments=segments(body),
                date_sent=now(),
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

    # --- a message's progress, and the webhooks Twilio sends ----------------------------------

    def _progress(self, message: FakeMessage) -> list[tuple[str, dict[str, str]]]:
        """Take a new message to its last status; the status callbacks Twilio would make."""
        failure = self._failing.get(message.to)
        callbacks = []
        for status in ("queued", "sent", "undelivered" if failure else "delivered"):
            if message.from_ is None:
                message.from_ = self._pool_sender(message.messaging_service_sid)
                message.num_segments = segments(message.body)
            message.status, message.date_updated = status, now()
            if status == "sent":
                message.date_sent = message.date_updated
            if status == "undelivered":
                message.error_code = failure
            if message.status_callback:
                callbacks.append((message.status_callback, status_params(message)))
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
