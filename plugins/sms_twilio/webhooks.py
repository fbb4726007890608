"""Twilio's webhooks: delivery reports and messages people send to the clinic's number.

Both are form posts signed with the account's Auth Token (X-Twilio-Signature, HMAC-SHA1
over the exact URL and the sorted POST parameters). Nothing is read before that holds.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from praxis.core.providers.common import WebhookRejected, WebhookRequest
from praxis.core.providers.sms import SmsInbound, SmsStatusUpdate
from praxis.plugins.sms_twilio.errors import UNSUBSCRIBED_RECIPIENT

SIGNATURE_HEADER = "x-twilio-signature"
# Present when a Webhooks Rule has Twilio sign with a SharedKey instead of the Auth Token.
SHARED_KEY_HEADER = "x-twilio-webhooks-signature-settings"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

_MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")


class FormParams(dict[str, list[str]]):
    """POST parameters with every value kept, as the SDK's validator signs repeated names."""

    def getlist(self, name: str) -> list[str]:
        return self[name]

    def one(self, name: str) -> str | None:
        values = self.get(name)
        return values[0] if values else None


def verified_params(request: WebhookRequest, *, auth_token: str, account_sid: str) -> FormParams:
    """The request's POST parameters, once its signature and account are proven."""
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise WebhookRejected("no X-Twilio-Signature header")
    if SHARED_KEY_HEADER in request.headers:
        raise WebhookRejected(
            "signed with a Twilio SharedKey; remove the Webhooks Rule so Twilio signs with "
            "the Auth Token"
        )
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("the body is not UTF-8 form data") from None
    # blank values are signed too, so they must be kept to check the signature
    params = FormParams(parse_qs(text, keep_blank_values=True))
    if not RequestValidator(auth_token).validate(request.url, params, signature):
        raise WebhookRejected("the X-Twilio-Signature does not match this URL and body")
    if params.one("AccountSid") != account_sid:
        raise WebhookRejected("the webhook is for another Twilio account")
    return params


def status_update(params: FormParams) -> SmsStatusUpdate:
    sid = _message_sid(params)
    status = params.one("MessageStatus")
    if not status:
        raise WebhookRejected("a status callback without MessageStatus")
    error_code = params.one("ErrorCode") or None
    return SmsStatusUpdate(
        event_id=f"{sid}:{status}",
        message_id=sid,
        status=status,
        error_code=error_code,
        opted_out=error_code == str(UNSUBSCRIBED_RECIPIENT),
    )


def inbound_message(params: FormParams) -> SmsInbound:
    sid = _message_sid(params)
    sender = params.one("From")
    if not sender:
        raise WebhookRejected("an incoming message without From")
    return SmsInbound(event_id=sid, from_number=sender, body=params.one("Body") or "")


def _message_sid(params: FormParams) -> str:
    sid = params.one("MessageSid")
    if not sid or not _MESSAGE_SID.match(sid):
        raise WebhookRejected("no valid MessageSid")
    return sid
