"""The sandbox inbox: which phones got messages, each one's conversation, replies from it."""

from __future__ import annotations

import html
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from praxis.core.sandbox.twilio.api import form_text
from praxis.core.sandbox.twilio.messages import E164, MAX_BODY, FakeMessage, rfc2822

if TYPE_CHECKING:
    from praxis.core.sandbox.twilio.fake import FakeTwilio


def routes(fake: FakeTwilio) -> list[Route]:
    return [
        Route("/inbox", partial(inbox, fake), methods=["GET"]),
        Route("/inbox/{number}", partial(conversation, fake), methods=["GET"]),
        Route("/inbox/{number}", partial(reply, fake), methods=["POST"]),
    ]


async def inbox(fake: FakeTwilio, request: Request) -> Response:
    with fake._lock:
        outbound = [m for m in reversed(fake._messages) if m.direction != "inbound"]
    phones = list(dict.fromkeys(m.to for m in outbound))
    root = request.scope.get("root_path", "")
    items = "".join(
        f'<li><a href="{html.escape(root)}/inbox/{quote(phone, safe="")}">'
        f"{html.escape(phone)}</a></li>"
        for phone in phones
    )
    content = f"<ul>{items}</ul>" if items else "<p>No message has been sent yet.</p>"
    return _page(request, "Phones that received messages", content)


async def conversation(fake: FakeTwilio, request: Request) -> Response:
    phone = request.path_params["number"]
    with fake._lock:
        talk = [m for m in reversed(fake._messages) if phone in (m.to, m.from_)]
        numbers = set(fake._numbers)
    clinics = list(dict.fromkeys(m.from_ for m in talk if m.to == phone and m.from_ in numbers))
    rows = "".join(_conversation_row(m, phone) for m in talk)
    history = f"<ol>{rows}</ol>" if rows else "<p>This phone has no messages.</p>"
    action = html.escape(_phone_url(request, phone))
    return _page(request, f"Messages on {phone}", history + _reply_forms(action, clinics))


async def reply(fake: FakeTwilio, request: Request) -> Response:
    phone = request.path_params["number"]
    form = await request.form()
    to, body = form_text(form, "to") or "", (form_text(form, "body") or "").strip()
    with fake._lock:
        known = to in fake._numbers
    if not E164.match(phone) or not known or not body or len(body) > MAX_BODY:
        explain = "<p>Choose a clinic number and write 1 to 1600 characters.</p>"
        return _page(request, "Reply not sent", explain, 400)
    await fake.send_inbound(phone, to, body)
    return RedirectResponse(_phone_url(request, phone), status_code=303)


def _phone_url(request: Request, phone: str) -> str:
    """The phone's page, absolute, under wherever the sandbox is mounted."""
    path = f"{request.scope.get('root_path', '')}/inbox/{quote(phone, safe='')}"
    return str(request.url.replace(path=path, query=""))


def _conversation_row(message: FakeMessage, phone: str) -> str:
    when = html.escape(rfc2822(message.date_created) or "")
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
