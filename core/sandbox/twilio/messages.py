"""Twilio's Message resource: its shape, segments, sids and status callback parameters."""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
MAX_BODY = 1600
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def rfc2822(moment: datetime | None) -> str | None:
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
    date_created: datetime = field(default_factory=now)
    date_sent: datetime | None = None
    date_updated: datetime = field(default_factory=now)

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
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated),
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


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def default_service(account: str) -> str:
    """The contract: "a unique default value is assigned if a Messaging Service is not used"."""
    return "MG" + hashlib.sha256(account.encode()).hexdigest()[:32]


def status_params(message: FakeMessage) -> dict[str, str]:
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
    if message.messaging_service_sid != default_service(message.account_sid):
        params["MessagingServiceSid"] = message.messaging_service_sid
    if message.error_code:
        params["ErrorCode"] = str(message.error_code)
    return params
