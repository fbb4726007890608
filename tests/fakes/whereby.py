"""A stateful fake of Whereby Embedded: the meetings API v1, signed webhooks, sandbox rooms.

Built from the official contract (whereby-meetings.openapi.json: ``/meetings`` only) and the
docs.whereby.com webhooks page. ``harness.start(fake.app)`` serves it at the root; the sandbox
mounts the same app under ``/-/sandbox/whereby``. The REST API lives under ``/v1``, so a
provider's ``api_base_url`` is ``<fake url>/v1``. Each API key is one organisation, with its
own meetings, webhook endpoint and secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from core.providers.common import WebhookRequest
from tests.fakes.harness import Delivery, Fault, Faults, Webhooks

Role = Literal["host", "visitor", "viewer"]

_FIELDS = {"hostRoomUrl", "viewerRoomUrl"}
_SCALARS = ("endDate", "startDate", "isLocked", "roomMode", "roomNamePrefix", "roomNamePattern")
_OBJECTS = ("recording", "liveTranscription", "streaming")
_CREATE_PROPERTIES = {*_SCALARS, *_OBJECTS, "templateType", "fields"}
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", re.IGNORECASE
)
_PREFIX = re.compile(r"[a-z0-9]{0,39}")  # the contract's pattern, read anchored (stricter)
_HUMAN_SHORT = "bcdfghjkmnpqrstvwxz23456789"  # six distinguishable characters
_RATE_LIMIT_POINTS = 1000  # a Grow plan's budget per minute
_THROTTLED = "Rate limit active for throttle key: organization:1"


class ContractError(Exception):
    """A request the contract does not allow: answered 400 with Whereby's error body."""


@dataclass(frozen=True)
class Organisation:
    api_key: str
    webhook_url: str | None
    webhook_secret: str | None


@dataclass
class Participant:
    participant_id: str
    role_name: str  # as Whereby names it: host, visitor, granted_visitor, viewer


@dataclass
class FakeMeeting:
    meeting_id: str
    api_key: str  # the organisation it belongs to
    seq: int  # creation order, for the listing's cursor
    room_name: str  # "/<prefix>-<uuid>"
    room_url: str
    host_key: str
    viewer_key: str
    start_date: datetime
    end_date: datetime
    is_locked: bool
    room_mode: str
    participants: list[Participant] = field(default_factory=list)
    room_session_id: str | None = None
    session_started: bool = False

    @property
    def host_room_url(self) -> str:
        return f"{self.room_url}?roomKey={self.host_key}"

    @property
    def viewer_room_url(self) -> str:
        return f"{self.room_url}?viewerKey={self.viewer_key}"

    def resource(self, fields: set[str]) -> dict[str, Any]:
        """The contract's Meeting; the optional URLs only when ``fields`` asks for them."""
        body: dict[str, Any] = {
            "meetingId": self.meeting_id,
            "roomName": self.room_name,
            "roomUrl": self.room_url,
            "startDate": iso(self.start_date),
            "endDate": iso(self.end_date),
        }
        if "hostRoomUrl" in fields:
            body["hostRoomUrl"] = self.host_room_url
        if "viewerRoomUrl" in fields:
            body["viewerRoomUrl"] = self.viewer_room_url
        return body


@dataclass(frozen=True)
class _NewMeeting:
    end: datetime
    locked: bool
    mode: str
    pattern: str
    prefix: str
    fields: set[str]


@dataclass
class ReceivedRequest:
    method: str
    path: str  # below the mount point, e.g. /v1/meetings
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: Any  # the parsed JSON, or None
    status: int | None = None  # what the fake answered, once it has


def iso(moment: datetime) -> str:
    """UTC with milliseconds and a Z, as Whereby writes dates."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The Whereby-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def webhook_request(
    delivery: Delivery, *, received_at: datetime | None = None, topic: str = ""
) -> WebhookRequest:
    """A recorded delivery as the platform's webhook endpoint would hand it to the provider."""
    return WebhookRequest(
        url=delivery.url or "http://sandbox.localhost/-/plugins/video_whereby/webhook/",
        headers={name.lower(): value for name, value in delivery.headers.items()},
        body=delivery.body,
        topic=topic,
        received_at=received_at or datetime.now(UTC),
    )


class FakeWhereby:
    """Whereby for tests and the sandbox; ``push=True`` POSTs webhooks, else only records them."""

    def __init__(self, *, push: bool = False) -> None:
        self.push = push
        self.faults = Faults()
        self.webhooks = Webhooks()
        self.meetings: dict[str, FakeMeeting] = {}
        self.requests: list[ReceivedRequest] = []
        self._organisations: dict[str, Organisation] = {}
        self._cursors: dict[str, tuple[str, int]] = {}  # token -> (api key, last seq)
        self._seq = 0
        self._lock = threading.Lock()  # tests act from their thread, the server from its own
        self.app = Starlette(
            routes=[
                Route("/v1/meetings", self._meetings, methods=["GET", "POST"]),
                Route("/v1/meetings/{meeting_id}", self._meeting, methods=["GET", "DELETE"]),
                Route("/room/{room_name}", self._room_page, methods=["GET"]),
                Route("/room/{room_name}/join", self._join_form, methods=["POST"]),
                Route("/room/{room_name}/leave", self._leave_form, methods=["POST"]),
            ]
        )

    # --- control ------------------------------------------------------------------------------

    def add_api_key(
        self, key: str, *, webhook_url: str | None = None, webhook_secret: str | None = None
    ) -> None:
        """Register an organisation; without a secret it has no webhook endpoint."""
        if webhook_url and not webhook_secret:
            raise ValueError("a webhook_url needs its webhook_secret: Whereby signs every event")
        with self._lock:
            self._organisations[key] = Organisation(key, webhook_url, webhook_secret)

    def reset(self) -> None:
        """Forget meetings, requests, faults and deliveries; registered API keys stay."""
        with self._lock:
            self.meetings.clear()
            self.requests.clear()
            self._cursors.clear()
        self.faults.clear()
        self.webhooks.clear()

    def by_room_name(self, room_name: str) -> FakeMeeting | None:
        wanted = "/" + room_name.lstrip("/")
        with self._lock:
            return next((m for m in self.meetings.values() if m.room_name == wanted), None)

    async def join(self, meeting_id: str, role: Role = "visitor") -> str:
        """Someone enters the room: room.client.joined, and room.session.started at two."""
        with self._lock:
            meeting = self._live(meeting_id)
            # a locked room lets visitors in only after they knock: Whereby calls them granted
            role_name = "granted_visitor" if role == "visitor" and meeting.is_locked else role
            participant = Participant(str(uuid.uuid4()), role_name)
            if not meeting.participants:
                meeting.room_session_id = str(uuid.uuid4())
            meeting.participants.append(participant)
            events = [self._client_event("room.client.joined", meeting, participant)]
            if len(meeting.participants) >= 2 and not meeting.session_started:
                meeting.session_started = True
                events.append(_event("room.session.started", meeting))
        await self._send(meeting.api_key, events)
        return participant.participant_id

    async def leave(
        self, meeting_id: str, role: Role | None = None, *, participant_id: str | None = None
    ) -> None:
        """The latest one in (of ``role``, or with that id) leaves: room.client.left, and
        room.session.ended once fewer than two remain."""
        with self._lock:
            meeting = self._live(meeting_id)
            participant = _pick(meeting.participants, role, participant_id)
            meeting.participants.remove(participant)
            events = [self._client_event("room.client.left", meeting, participant)]
            if len(meeting.participants) < 2 and meeting.session_started:
                meeting.session_started = False
                events.append(_event("room.session.ended", meeting))
            if not meeting.participants:
                meeting.room_session_id = None
        await self._send(meeting.api_key, events)

    def _live(self, meeting_id: str) -> FakeMeeting:
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            raise LookupError(f"no meeting {meeting_id} at the fake Whereby")
        return meeting

    # --- the REST API -------------------------------------------------------------------------

    async def _meetings(self, request: Request) -> Response:
        handler = self._create if request.method == "POST" else self._list
        return await self._api(request, handler)

    async def _meeting(self, request: Request) -> Response:
        handler = self._get if request.method == "GET" else self._delete
        return await self._api(request, handler)

    async def _api(
        self, request: Request, handler: Callable[[Request, str], Awaitable[Response]]
    ) -> Response:
        """Every API call: recorded, then faults, then the Bearer key, then the contract."""
        received = await _record(request)
        with self._lock:
            self.requests.append(received)
        fault = self.faults.take()
        if fault is not None:
            response = await _faulty(fault)
        elif (key := self._api_key(request)) is None:
            response = Response(status_code=401)
        else:
            try:
                response = await handler(request, key)
            except ContractError as exc:
                response = JSONResponse({"error": str(exc)}, status_code=400)
        received.status = response.status_code
        return response

    def _api_key(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self._organisations:
            return None
        return token

    async def _create(self, request: Request, key: str) -> Response:
        try:
            body = await request.json()
        except ValueError:
            raise ContractError("The body must be JSON") from None
        new = _create_values(body)
        room = _room_suffix(new.pattern)
        room_name = f"/{new.prefix}-{room}" if new.prefix else f"/{room}"
        with self._lock:
            self._seq += 1
            meeting = FakeMeeting(
                meeting_id=str(uuid.uuid4()),
                api_key=key,
                seq=self._seq,
                room_name=room_name,
                room_url=f"{_site(request)}/room{room_name}",
                host_key=secrets.token_urlsafe(24),
                viewer_key=secrets.token_urlsafe(24),
                start_date=datetime.now(UTC),
                end_date=new.end,
                is_locked=new.locked,
                room_mode=new.mode,
            )
            self.meetings[meeting.meeting_id] = meeting
        return JSONResponse(meeting.resource(new.fields), status_code=201)

    async def _list(self, request: Request, key: str) -> Response:
        fields = _fields_query(request)
        limit = _limit(request.query_params.get("limit"))
        with self._lock:
            after = self._cursor(request.query_params.get("cursor"), key)
            mine = sorted(
                (m for m in self.meetings.values() if m.api_key == key and m.seq > after),
                key=lambda m: m.seq,
            )
            page, rest = mine[:limit], mine[limit:]
            cursor = None
            if rest:
                cursor = uuid.uuid4().hex
                self._cursors[cursor] = (key, page[-1].seq)
            results = [m.resource(fields) for m in page]
        return JSONResponse({"results": results, "cursor": cursor})

    def _cursor(self, token: str | None, key: str) -> int:
        if token is None:
            return 0
        found = self._cursors.get(token)
        if found is None or found[0] != key:
            raise ContractError("Invalid cursor")
        return found[1]

    async def _get(self, request: Request, key: str) -> Response:
        fields = _fields_query(request)
        meeting = self.meetings.get(request.path_params["meeting_id"])
        if meeting is None or meeting.api_key != key:  # another organisation's is not found
            return JSONResponse({"error": "Meeting not found"}, status_code=404)
        return JSONResponse(meeting.resource(fields))

    async def _delete(self, request: Request, key: str) -> Response:
        with self._lock:
            meeting = self.meetings.get(request.path_params["meeting_id"])
            if meeting is not None and meeting.api_key == key:
                del self.meetings[meeting.meeting_id]
        return Response(status_code=204)  # idempotent, as the contract says

    # --- webhooks -----------------------------------------------------------------------------

    def _client_event(self, kind: str, meeting: FakeMeeting, who: Participant) -> dict[str, Any]:
        roles = Counter(p.role_name for p in meeting.participants)
        return _event(
            kind,
            meeting,
            participantId=who.participant_id,
            roleName=who.role_name,
            displayName=f"Sandbox {who.role_name.replace('_', ' ')}",  # never a real name
            numClients=len(meeting.participants),
            numClientsByRoleName=dict(roles),
        )

    async def _send(self, api_key: str, events: list[dict[str, Any]]) -> None:
        organisation = self._organisations[api_key]
        if not organisation.webhook_secret:
            return  # the organisation set up no webhook
        url = organisation.webhook_url or ""
        for event in events:
            body = json.dumps(event, separators=(",", ":")).encode()
            headers = {
                "Content-Type": "application/json",
                "Whereby-Signature": sign(organisation.webhook_secret, body, int(time.time())),
            }
            if self.push and url:
                await self.webhooks.deliver(url, headers, body)
            else:  # recorded with its address, for a test to replay; list.append is atomic
                self.webhooks.deliveries.append(Delivery(url, headers, body))

    # --- the sandbox room pages ---------------------------------------------------------------

    async def _room_page(self, request: Request) -> Response:
        meeting = self.by_room_name(request.path_params["room_name"])
        if meeting is None:
            return HTMLResponse(_missing_room(), status_code=404)
        role = _role(meeting, request)
        here = f"{_site(request)}/room{meeting.room_name}"
        query = f"?{request.url.query}" if request.url.query else ""
        with self._lock:
            present = Counter(p.role_name for p in meeting.participants)
        return HTMLResponse(_room_html(meeting, role, present, here, query))

    async def _join_form(self, request: Request) -> Response:
        return await self._form(request, "join")

    async def _leave_form(self, request: Request) -> Response:
        return await self._form(request, "leave")

    async def _form(self, request: Request, action: Literal["join", "leave"]) -> Response:
        meeting = self.by_room_name(request.path_params["room_name"])
        if meeting is None:
            return HTMLResponse(_missing_room(), status_code=404)
        role = _role(meeting, request)
        try:
            if action == "join":
                await self.join(meeting.meeting_id, role)
            else:
                await self.leave(meeting.meeting_id, role)
        except LookupError:
            pass  # deleted meanwhile, or nobody of this role to leave: the page shows the state
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{_site(request)}/room{meeting.room_name}{query}", 303)


# --- helpers ----------------------------------------------------------------------------------


def _site(request: Request) -> str:
    """Scheme, host and mount point as the caller reached us, so links work when mounted."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


async def _record(request: Request) -> ReceivedRequest:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    root = request.scope.get("root_path", "")
    return ReceivedRequest(
        method=request.method,
        path=request.url.path.removeprefix(root),
        query=dict(request.query_params),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
    )


async def _faulty(fault: Fault) -> Response:
    if fault.kind == "timeout":
        await asyncio.sleep(fault.delay)
    if fault.status != 429:
        return JSONResponse({"error": "Internal server error"}, status_code=fault.status)
    wait = fault.retry_after or 1
    reset = datetime.now(UTC) + timedelta(seconds=wait)
    return JSONResponse(
        {
            "error": "Rate limit active for throttle key: organization:1",
            "data": {"msLeft": wait * 1000},
        },
        status_code=429,
        headers={
            "Retry-After": str(wait),
            "X-RateLimit-Limit": str(_RATE_LIMIT_POINTS),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": format_datetime(reset, usegmt=True),
        },
    )


def _create_values(body: Any) -> _NewMeeting:
    """The POST /meetings body checked against the contract, with its defaults filled in."""
    if not isinstance(body, dict):
        raise ContractError("The body must be a JSON object")
    unknown = sorted(set(body) - _CREATE_PROPERTIES)
    if unknown:  # stricter than the contract: a misspelt property fails here, not silently
        raise ContractError(f'"{unknown[0]}" is not allowed')
    if "endDate" not in body:
        raise ContractError('"endDate" is required')
    end = _date_time(body["endDate"], "endDate")
    if end < datetime.now(UTC):
        raise ContractError('"endDate" must be the same or after the current date')
    if "startDate" in body:
        _date_time(body["startDate"], "startDate")  # deprecated and ignored, but typed
    locked = body.get("isLocked", False)
    if not isinstance(locked, bool):
        raise ContractError('"isLocked" must be a boolean')
    for name in _OBJECTS:
        if name in body and not isinstance(body[name], dict):
            raise ContractError(f'"{name}" must be an object')
    _enum(body, "templateType", ("viewerMode",), "")
    return _NewMeeting(
        end=end,
        locked=locked,
        mode=_enum(body, "roomMode", ("group", "normal"), "normal"),
        pattern=_enum(body, "roomNamePattern", ("uuid", "human-short"), "uuid"),
        prefix=_prefix(body.get("roomNamePrefix", "")),
        fields=_field_names(body.get("fields", [])),
    )


def _date_time(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise ContractError(f'"{name}" must be a valid ISO 8601 date-time')
    moment = datetime.fromisoformat(value.upper())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _enum(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    if name in body and body[name] not in allowed:
        raise ContractError(f'"{name}" must be one of [{", ".join(allowed)}]')
    return str(body.get(name, default))


def _prefix(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 39:
        raise ContractError('"roomNamePrefix" must be a string of at most 39 characters')
    prefix = value.replace(" ", "")  # "spaces will be automatically removed"
    if not _PREFIX.fullmatch(prefix):
        raise ContractError('"roomNamePrefix" must match [a-z0-9]{0,39}')
    return prefix


def _field_names(values: Any) -> set[str]:
    if not isinstance(values, list) or not all(v in _FIELDS for v in values):
        raise ContractError('"fields" must be an array of [hostRoomUrl, viewerRoomUrl]')
    return set(values)


def _fields_query(request: Request) -> set[str]:
    """``fields`` is form style, not exploded: fields=hostRoomUrl,viewerRoomUrl."""
    names = [n for raw in request.query_params.getlist("fields") for n in raw.split(",") if n]
    return _field_names(names)


def _limit(raw: str | None) -> int:
    if raw is None:
        return 50
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise ContractError('"limit" must be an integer from 1 to 100')
    return int(raw)


def _room_suffix(pattern: str) -> str:
    if pattern == "human-short":
        return "".join(secrets.choice(_HUMAN_SHORT) for _ in range(6))
    return str(uuid.uuid4())


def _event(kind: str, meeting: FakeMeeting, **data: Any) -> dict[str, Any]:
    return {
        "id": secrets.token_hex(32),
        "apiVersion": "1.0",
        "createdAt": iso(datetime.now(UTC)),
        "type": kind,
        "data": {
            "meetingId": meeting.meeting_id,
            "roomName": meeting.room_name,
            "roomSessionId": meeting.room_session_id,
            **data,
        },
    }


def _pick(people: list[Participant], role: Role | None, participant_id: str | None) -> Participant:
    def matches(p: Participant) -> bool:
        if participant_id is not None:
            return p.participant_id == participant_id
        return role is None or p.role_name in (role, f"granted_{role}")

    found = next((p for p in reversed(people) if matches(p)), None)
    if found is None:
        raise LookupError("nobody like that is in the room")
    return found


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
