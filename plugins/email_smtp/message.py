"""The RFC 5322 message for one ``EmailMessage``: headers, Message-ID and a UTF-8 body."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime

from email_validator import EmailNotValidError, validate_email

from praxis.core.providers.common import PermanentFailure
from praxis.core.providers.email import EmailMessage

TENANT_HEADER = "X-Praxis-Tenant"
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,76}$")  # RFC 5322 field names, no tricks
RESERVED = frozenset({"from", "to", "cc", "bcc", "subject", "date", "message-id", "reply-to"})


def message_id(idempotency_key: str, *, tenant_slug: str, domain: str) -> str:
    """The same Message-ID on every retry, so receivers can drop a duplicate delivery."""
    digest = hashlib.sha256(f"{tenant_slug}\x00{idempotency_key}".encode()).hexdigest()
    return f"<{digest[:40]}@{domain.encode('idna').decode('ascii')}>"


def build_message(
    message: EmailMessage, *, from_address: str, now: datetime | None = None
) -> MimeMessage:
    """Raise PermanentFailure when an address cannot be used (the reason never names it)."""
    mime = MimeMessage()
    sender = Address(display_name=_one_line(message.sender_name), addr_spec=from_address)
    mime["From"] = sender
    mime["To"] = Address(addr_spec=_checked(message.to, "the recipient address"))
    if message.reply_to:
        mime["Reply-To"] = Address(addr_spec=_checked(message.reply_to, "the reply-to address"))
    mime["Subject"] = _one_line(message.subject)
    mime["Date"] = format_datetime(now or datetime.now(UTC))
    mime["Message-ID"] = message_id(
        message.idempotency_key, tenant_slug=message.tenant_slug, domain=sender.domain
    )
    mime["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies stay quiet
    if message.tenant_slug:
        mime[TENANT_HEADER] = _one_line(message.tenant_slug)
    for name, value in message.headers:  # plugin API 1.1: List-Unsubscribe and the like
        if name.lower() not in RESERVED and HEADER_NAME.match(name):
            mime[name] = _one_line(value)
    mime.set_content(message.text, charset="utf-8")
    for attached in message.attachments:  # e.g. the appointment's .ics
        maintype, _, subtype = attached.content_type.partition("/")
        mime.add_attachment(
            attached.data, maintype=maintype, subtype=subtype, filename=attached.filename
        )
    return mime


def _checked(address: str, what: str) -> str:
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise PermanentFailure(f"{what} is not a valid email address") from None


def _one_line(value: str) -> str:
    """Header values on one line: a newline in a name or subject must not add a header."""
    return " ".join(value.split())
