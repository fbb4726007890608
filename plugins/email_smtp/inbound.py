"""The clinic's inbound mail (plugin API 1.1): the mail server that receives the clinic's
address (a Postfix pipe, a forwarding service) POSTs each raw RFC 5322 message to
``<webhook_url>inbound``, signed ``X-Praxis-Signature: sha256=<hex HMAC of the body>`` with
the inbound secret. Only the sender and the subject are read."""

from __future__ import annotations

import hashlib
import hmac
from email import message_from_bytes, policy
from email.utils import parseaddr

from praxis.core.providers.common import WebhookRejected, WebhookRequest
from praxis.core.providers.email import EmailInbound

SIGNATURE_HEADER = "x-praxis-signature"
MAX_BYTES = 1_000_000


def signature(secret: str, body: bytes) -> str:
    """What the forwarding server sends in X-Praxis-Signature."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def read_inbound(secret: str, request: WebhookRequest) -> EmailInbound | None:
    """Verify, then read sender and subject; raise WebhookRejected for anything unsigned."""
    given = {k.lower(): v for k, v in request.headers.items()}.get(SIGNATURE_HEADER, "")
    if not secret or not request.body or len(request.body) > MAX_BYTES:
        raise WebhookRejected("no inbound secret is set, or the message is empty or too big")
    if not hmac.compare_digest(given, signature(secret, request.body)):
        raise WebhookRejected("the signature does not match")
    if request.topic != "inbound":
        return None
    mail = message_from_bytes(request.body, policy=policy.default)
    _, sender = parseaddr(str(mail.get("From", "")))
    if "@" not in sender:
        return None  # no one to answer: nothing to do
    subject = " ".join(str(mail.get("Subject", "")).split())[:200]
    message_id = str(mail.get("Message-ID", "")).strip()[:200]
    event_id = message_id or hashlib.sha256(request.body).hexdigest()
    return EmailInbound(event_id=event_id, from_address=sender.lower(), subject=subject)
