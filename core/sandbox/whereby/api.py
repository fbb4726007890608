"""The meetings API v1: routes, faults, the Bearer key, create, list, get and delete."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from praxis.core.sandbox.harness import Fault
from praxis.core.sandbox.whereby.meetings import FakeMeeting
from praxis.core.sandbox.whereby.pages import site
from praxis.core.sandbox.whereby.params import (
    ContractError,
    create_values,
    fields_query,
    page_limit,
)
from praxis.core.sandbox.whereby.state import ReceivedRequest

if TYPE_CHECKING:
    from praxis.core.sandbox.whereby.fake import FakeWhereby

Handler = Callable[["FakeWhereby", Request, str], Awaitable[Response]]

_HUMAN_SHORT = "bcdfghjkmnpqrstvwxz23456789"  # six distinguishable characters
_RATE_LIMIT_POINTS = 1000  # a Grow plan's budget per minute
_THROTTLED = "Rate limit active for throttle key: organization:1"


def routes(fake: FakeWhereby) -> list[Route]:
    return [
        Route("/v1/meetings", partial(_meetings, fake), methods=["GET", "POST"]),
        Route("/v1/meetings/{meeting_id}", partial(_meeting, fake), methods=["GET", "DELETE"]),
    ]


async def _meetings(fake: FakeWhereby, request: Request) -> Response:
    handler = create_meeting if request.method == "POST" else list_meetings
    return await _api(fake, request, handler)


async def _meeting(fake: FakeWhereby, request: Request) -> Response:
    handler = get_meeting if request.method == "GET" else delete_meeting
    return await _api(fake, request, handler)


async def _api(fake: FakeWhereby, request: Request, handler: Handler) -> Response:
    """Every API call: recorded, then faults, then the Bearer key, then the contract."""
    received = await _record(request)
    with fake._lock:
        fake.requests.append(received)
    fault = fake.faults.take()
    if fault is not None:
        response = await _faulty(fault)
    elif (key := _api_key(fake, request)) is None:
        response = Response(status_code=401)
    else:
        try:
            response = await handler(fake, request, key)
        except ContractError as exc:
            response = JSONResponse({"error": str(exc)}, status_code=400)
    received.status = response.status_code
    return response


def _api_key(fake: FakeWhereby, request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or token not in fake._organisations:
        return None
    return token


async def create_meeting(fake: FakeWhereby, request: Request, key: str) -> Response:
    try:
        body = await request.json()
    except ValueError:
        raise ContractError("The body must be JSON") from None
    new = create_values(body)
    room = _room_suffix(new.pattern)
    room_name = f"/{new.prefix}-{room}" if new.prefix else f"/{room}"
    with fake._lock:
        fake._seq += 1
        meeting = FakeMeeting(
            meeting_id=str(uuid.uuid4()),
            api_key=key,
            seq=fake._seq,
            room_name=room_name,
            room_url=f"{site(request)}/room{room_name}",
            host_key=secrets.token_urlsafe(24),
            viewer_key=secrets.token_urlsafe(24),
            start_date=datetime.now(UTC),
            end_date=new.end,
            is_locked=new.locked,
            room_mode=new.mode,
        )
        fake.meetings[meeting.meeting_id] = meeting
    return JSONResponse(meeting.resource(new.fields), status_code=201)


async def list_meetings(fake: FakeWhereby, request: Request, key: str) -> Response:
    fields = fields_query(request)
    limit = page_limit(request.query_params.get("limit"))
    with fake._lock:
        after = _cursor(fake, request.query_params.get("cursor"), key)
        mine = sorted(
            (m for m in fake.meetings.values() if m.api_key == key and m.seq > after),
            key=lambda m: m.seq,
        )
        page, rest = mine[:limit], mine[limit:]
        cursor = None
        if rest:
            cursor = uuid.uuid4().hex
            fake._cursors[cursor] = (key, page[-1].seq)
        results = [m.resource(fields) for m in page]
    return JSONResponse({"results": results, "cursor": cursor})


def _cursor(fake: FakeWhereby, token: str | None, key: str) -> int:
    if token is None:
        return 0
    found = fake._cursors.get(token)
    if found is None or found[0] != key:
        raise ContractError("Invalid cursor")
    return found[1]


async def get_meeting(fake: FakeWhereby, request: Request, key: str) -> Response:
    fields = fields_query(request)
    meeting = fake.meetings.get(request.path_params["meeting_id"])
    if meeting is None or meeting.api_key != key:  # another organisation's is not found
        return JSONResponse({"error": "Meeting not found"}, status_code=404)
    return JSONResponse(meeting.resource(fields))


async def delete_meeting(fake: FakeWhereby, request: Request, key: str) -> Response:
    with fake._lock:
        meeting = fake.meetings.get(request.path_params["meeting_id"])
        if meeting is not None and meeting.api_key == key:
            del fake.meetings[meeting.meeting_id]
    return Response(status_code=204)  # idempotent, as the contract says


def _room_suffix(pattern: str) -> str:
    if pattern == "human-short":
        return "".join(secrets.choice(_HUMAN_SHORT) for _ in range(6))
    return str(uuid.uuid4())


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
