"""/-/mailbox: the mail the platform sent, read from the local Maildir (development only).

The local demo's email plugin, and the platform's own mail to operators, write into
``<PRAXIS_VAR_DIR>/mailbox`` instead of an SMTP server. Clinic staff see their clinic's
messages; operators see all. Anywhere but PRAXIS_ENV=development this page does not exist.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
from dataclasses import dataclass
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path

from starlette.responses import Response

from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, not_found, render

pages = Pages()
SHOWN = 100


@dataclass(frozen=True)
class Mail:
    key: str
    to: str
    sender: str
    subject: str
    date: str
    body: str


def mailbox_dir(ctx: Ctx) -> Path:
    return Path(ctx.settings.var_dir) / "mailbox"


def _text(message: Message) -> str:
    part = message.get_body(("plain",)) if hasattr(message, "get_body") else message
    payload = (part or message).get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def read_mail(folder: Path, tenant_slug: str | None) -> list[Mail]:
    if not folder.is_dir():
        return []
    box = mailbox.Maildir(folder, create=False)
    found = []
    for key in box.iterkeys():
        message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        if tenant_slug and message.get("X-Praxis-Tenant", "") != tenant_slug:
            continue
        when = message.get("Date", "")
        found.append(
            (
                parsedate_to_datetime(when).timestamp() if when else 0.0,
                Mail(
                    key,
                    str(message.get("To", "")),
                    str(message.get("From", "")),
                    str(message.get("Subject", "")),
                    str(when),
                    _text(message),
                ),
            )
        )
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [mail for _, mail in found[:SHOWN]]


async def _mailbox(ctx: Ctx) -> Response:
    if not ctx.settings.is_development:
        return not_found(ctx.request)
    tenant = ctx.tenant_or_none
    mails = read_mail(mailbox_dir(ctx), tenant.slug if tenant else None)
    return render(ctx, "mailbox.html", mails=mails, title="Mailbox (development)")


pages.page("/-/mailbox", access=Access.STAFF, name="tenant_mailbox")(_mailbox)
pages.page("/-/mailbox", site="platform", access=Access.OPERATOR, name="platform_mailbox")(_mailbox)
