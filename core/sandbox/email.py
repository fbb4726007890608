"""The email sandbox: write to a clinic as a patient would, and its mail server forwards it.

A clinic's inbound mail reaches Praxis only through its own mail server, which POSTs each
message, signed with the clinic's inbound secret, to the email plugin's webhook (plugin API
1.1). In development there is no mail server: this page plays it. It builds the RFC 5322
message, signs it exactly as docs/providers.md tells a mail server to, and posts it into the
app, so an email headed "Unsubscribe" opts its sender out as it would in production.
Only clinics whose email plugin writes into the development mailbox and has an inbound secret
are offered.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from praxis.core.plugins.registry import webhook_url
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant

PLUGIN = "email_smtp"
MAX_SUBJECT, MAX_TEXT = 200, 5000
SIGNATURE_HEADER = "X-Praxis-Signature"


@dataclass(frozen=True)
class Inbox:
    """A clinic that can receive mail here: where its mail server would post, and the secret."""

    tenant: TenantInfo
    address: str  # the clinic's From address: what a patient replies to
    url: str
    secret: str


async def inboxes(rt: Runtime) -> list[Inbox]:
    async with rt.database.reading() as db:
        tenants = [TenantInfo.from_row(t) for t in await db.scalars(select(Tenant))]
    found = []
    for tenant in tenants:
        if tenant.providers.get("email") != PLUGIN:
            continue
        async with rt.database.reading(tenant.id) as db:
            values = rt.provider_settings.stored(
                await rt.provider_settings.row(db, PLUGIN), tenant.id
            )
        if values.get("mailbox_dir") and values.get("inbound_secret"):
            url = webhook_url(rt.settings, tenant, PLUGIN) + "/inbound"
            found.append(Inbox(tenant, str(values["from_address"]), url, values["inbound_secret"]))
    return found


def signed(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def compose(sender: str, to: str, subject: str, text: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="sandbox.invalid")
    message.set_content(text or "(no text)")
    return bytes(message)


async def forward(app: Any, inbox: Inbox, raw: bytes) -> int:
    """Post the message into the app as the clinic's mail server would; its status code."""
    parts = urlsplit(inbox.url)
    origin = f"{parts.scheme}://{parts.netloc}"
    headers = {SIGNATURE_HEADER: signed(inbox.secret, raw), "Content-Type": "message/rfc822"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=origin) as client:
        answer = await client.post(parts.path, content=raw, headers=headers)
    return answer.status_code


class EmailSandbox:
    """``/-/sandbox/email/``: GET shows the form, POST sends. Mounted inside the app, it reaches
    the app (and its runtime) through the scope, as the other sandbox pages do."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        app = scope["app"]
        request = Request(scope, receive)
        root = scope.get("root_path", "")
        rest = scope["path"].removeprefix(root) if scope["path"].startswith(root) else scope["path"]
        if rest not in ("", "/"):
            response: Response = HTMLResponse("Not found.", status_code=404)
        elif request.method == "POST":
            response = await self.send_email(app, request)
        else:
            sent = request.query_params.get("sent") == "1"
            response = _page(await inboxes(app.state.runtime), sent=sent)
        await response(scope, receive, send)

    async def send_email(self, app: Any, request: Request) -> Response:
        found = await inboxes(app.state.runtime)
        form = await request.form()
        text = {k: str(form.get(k, "")).strip() for k in ("clinic", "sender", "subject", "text")}
        inbox = next((i for i in found if i.tenant.slug == text["clinic"]), None)
        problem = ""
        if inbox is None:
            problem = "Choose one of the clinics listed."
        elif "@" not in text["sender"] or len(text["sender"]) > 320 or "\n" in text["sender"]:
            problem = "Enter your email address, like alex@example.org."
        elif len(text["subject"]) > MAX_SUBJECT or len(text["text"]) > MAX_TEXT:
            problem = (
                f"Keep the subject under {MAX_SUBJECT} and the message under {MAX_TEXT} characters."
            )
        if problem or inbox is None:
            return _page(found, problem=problem, status=422)
        raw = compose(text["sender"], inbox.address, text["subject"], text["text"])
        status = await forward(app, inbox, raw)
        if status >= 300:
            return _page(found, problem=f"The clinic's webhook answered {status}.", status=502)
        return RedirectResponse(f"{request.scope.get('root_path', '')}/?sent=1", status_code=303)


def _page(
    found: list[Inbox], *, sent: bool = False, problem: str = "", status: int = 200
) -> HTMLResponse:
    said = ""
    if sent:
        said = '<p role="status"><strong>Sent.</strong> The clinic\'s mail server passed it on.</p>'
    if problem:
        said = f'<p role="alert"><strong>Not sent.</strong> {html.escape(problem)}</p>'
    if not found:
        form = (
            "<p>No clinic here takes inbound email: its email plugin needs the development "
            "mailbox and an inbound secret.</p>"
        )
    else:
        options = "".join(
            f'<option value="{html.escape(i.tenant.slug)}">'
            f"{html.escape(i.tenant.name)} ({html.escape(i.address)})</option>"
            for i in found
        )
        form = (
            '<form method="post">'
            f'<p><label for="clinic">Clinic</label> <select id="clinic" name="clinic">{options}'
            "</select></p>"
            '<p><label for="sender">Your email address</label> '
            '<input id="sender" name="sender" type="email" required autocomplete="email"></p>'
            '<p><label for="subject">Subject</label> '
            f'<input id="subject" name="subject" value="Unsubscribe" maxlength="{MAX_SUBJECT}"></p>'
            '<p><label for="text">Message</label> '
            f'<textarea id="text" name="text" rows="4" maxlength="{MAX_TEXT}"></textarea></p>'
            '<p><button type="submit">Send email</button></p></form>'
        )
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Write to a clinic · Email sandbox</title></head><body>"
        "<header><p><strong>Sandbox.</strong> This page plays a clinic's mail server: the "
        "message never leaves this computer. An email whose subject is “Unsubscribe” stops "
        "the sender's news and offers by email.</p></header>"
        f"<main><h1>Write to a clinic</h1>{said}{form}</main></body></html>",
        status_code=status,
    )
