"""The sandbox room pages: who is in the room, and Join and Leave buttons for each role."""

from __future__ import annotations

import hmac
import html
from collections import Counter
from functools import partial
from typing import TYPE_CHECKING, Literal

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from praxis.core.sandbox.whereby.meetings import FakeMeeting, Role

if TYPE_CHECKING:
    from praxis.core.sandbox.whereby.fake import FakeWhereby


def routes(fake: FakeWhereby) -> list[Route]:
    return [
        Route("/room/{room_name}", partial(room_page, fake), methods=["GET"]),
        Route("/room/{room_name}/join", partial(join_form, fake), methods=["POST"]),
        Route("/room/{room_name}/leave", partial(leave_form, fake), methods=["POST"]),
    ]


async def room_page(fake: FakeWhereby, request: Request) -> Response:
    meeting = fake.by_room_name(request.path_params["room_name"])
    if meeting is None:
        return HTMLResponse(_missing_room(), status_code=404)
    role = _role(meeting, request)
    here = f"{site(request)}/room{meeting.room_name}"
    query = f"?{request.url.query}" if request.url.query else ""
    with fake._lock:
        present = Counter(p.role_name for p in meeting.participants)
    return HTMLResponse(_room_html(meeting, role, present, here, query))


async def join_form(fake: FakeWhereby, request: Request) -> Response:
    return await _form(fake, request, "join")


async def leave_form(fake: FakeWhereby, request: Request) -> Response:
    return await _form(fake, request, "leave")


async def _form(fake: FakeWhereby, request: Request, action: Literal["join", "leave"]) -> Response:
    meeting = fake.by_room_name(request.path_params["room_name"])
    if meeting is None:
        return HTMLResponse(_missing_room(), status_code=404)
    role = _role(meeting, request)
    try:
        if action == "join":
            await fake.join(meeting.meeting_id, role)
        else:
            await fake.leave(meeting.meeting_id, role)
    except LookupError:
        pass  # deleted meanwhile, or nobody of this role to leave: the page shows the state
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"{site(request)}/room{meeting.room_name}{query}", 303)


def site(request: Request) -> str:
    """Scheme, host and mount point as the caller reached us, so links work when mounted."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def _role(meeting: FakeMeeting, request: Request) -> Role:
    """Whoever holds the host (or viewer) key is host (or viewer); anyone else a visitor."""
    room_key = request.query_params.get("roomKey", "")
    viewer_key = request.query_params.get("viewerKey", "")
    if room_key and hmac.compare_digest(room_key, meeting.host_key):
        return "host"
    if viewer_key and hmac.compare_digest(viewer_key, meeting.viewer_key):
        return "viewer"
    return "visitor"


_BANNER = (
    "<p><strong>Sandbox</strong>: a stand-in for Whereby. There is no camera, microphone or "
    "call here; Join and Leave send the webhooks Whereby would send.</p>"
)


def _page(title: str, content: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n<main>\n{_BANNER}\n"
        f"{content}\n</main>\n</body>\n</html>\n"
    )


def _missing_room() -> str:
    return _page(
        "Sandbox video room not found",
        "<h1>Sandbox video room not found</h1>\n"
        "<p>This room does not exist: it may have been deleted, or the link is incomplete.</p>",
    )


def _room_html(
    meeting: FakeMeeting, role: Role, present: Counter[str], here: str, query: str
) -> str:
    title = f"Sandbox video room: you are in as {role}"
    if present:
        items = "".join(
            f"<li>{html.escape(name.replace('_', ' '))}: {count}</li>"
            for name, count in sorted(present.items())
        )
        who = f"<ul>{items}</ul>"
    else:
        who = "<p>Nobody is in the room yet.</p>"
    lock = (
        "<p>The room is locked: in Whereby visitors knock and a host lets them in; "
        "the sandbox lets them straight in.</p>"
        if meeting.is_locked
        else ""
    )
    end = meeting.end_date.strftime("%d %b %Y %H:%M UTC")
    return _page(
        title,
        f"<h1>{html.escape(title)}</h1>\n"
        f"<p>Room {html.escape(meeting.room_name)}, open until {html.escape(end)}.</p>\n"
        f"{lock}\n<h2>Who is in</h2>\n{who}\n"
        f'<form method="post" action="{html.escape(here + "/join" + query)}">'
        '<button type="submit">Join</button></form>\n'
        f'<form method="post" action="{html.escape(here + "/leave" + query)}">'
        '<button type="submit">Leave</button></form>',
    )
