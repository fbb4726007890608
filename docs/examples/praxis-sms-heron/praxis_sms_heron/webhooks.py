"""Heron's webhooks: delivery reports and texts people send to the clinic's number.

Heron signs ``<url>\\n<t>\\n<body>`` (the exact URL it called, so a report cannot be replayed
against another clinic) with HMAC-SHA256 and the account's signing secret, and sends
``Heron-Signature: t=<unix seconds>,v1=<hex>``. Nothing is read before that holds.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from praxis.core.providers.common import WebhookRejected
from praxis.core.providers.sms import SmsInbound, SmsStatusUpdate
from pydantic import BaseModel, Field, ValidationError

TOLERANCE_SECONDS = 300


class _Report(BaseModel):
    event_id: str = Field(min_length=1)
    message_id: str = Field(min_length=1)
    status: str = Field(min_length=1)
    error_code: str | None = None


class _Inbound(BaseModel):
    event_id: str = Field(min_length=1)
    from_number: str = Field(alias="from", min_length=2)
    text: str = ""


def signature(secret: bytes, url: str, body: bytes, timestamp: int) -> str:
    signed = f"{url}\n{timestamp}\n".encode() + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def verify(header: str | None, url: str, body: bytes, secret: bytes, received_at: datetime) -> None:
    """Raise WebhookRejected unless Heron signed this URL and body, recently."""
    if not header:
        raise WebhookRejected("no Heron-Signature header")
    parts: dict[str, str] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        parts[name] = value
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or not given:
        raise WebhookRejected("Heron-Signature needs t= and v1=")
    expected = signature(secret, url, body, int(timestamp))
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise WebhookRejected("Heron-Signature does not match this URL and body")
    if abs(received_at.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise WebhookRejected("Heron-Signature is too old (or from the future)")


def delivery_report(body: bytes, *, opted_out_code: str) -> SmsStatusUpdate:
    try:
        report = _Report.model_validate_json(body)
    except ValidationError:  # its message would quote the body
        raise WebhookRejected("the body is not a Heron delivery report") from None
    return SmsStatusUpdate(
        event_id=report.event_id,
        message_id=report.message_id,
        status=report.status,
        error_code=report.error_code,
        opted_out=report.error_code == opted_out_code,
    )


def inbound_text(body: bytes) -> SmsInbound:
    try:
        text = _Inbound.model_validate_json(body)
    except ValidationError:
        raise WebhookRejected("the body is not a Heron inbound text") from None
    return SmsInbound(event_id=text.event_id, from_number=text.from_number, body=text.text)
