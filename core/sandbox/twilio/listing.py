"""Listing messages: the To, From and DateSent filters, and Twilio's page tokens."""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from praxis.core.sandbox.twilio.errors import NotModelled
from praxis.core.sandbox.twilio.messages import API_VERSION, FakeMessage

if TYPE_CHECKING:
    from praxis.core.sandbox.twilio.fake import FakeTwilio

_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")


async def list_messages(
    fake: FakeTwilio, request: Request, account: str, form: FormData
) -> Response:
    query = request.query_params
    page_size, page = (
        _whole(query.get("PageSize", "50"), 1, 1000),
        _whole(query.get("Page", "0"), 0),
    )
    filters = [(name, query[name]) for name in _FILTERS if name in query]
    tests = [_filter(name, value) for name, value in filters]
    with fake._lock:
        found = [
            m
            for m in reversed(fake._messages)
            if m.account_sid == account and all(test(m) for test in tests)
        ]
    start = _page_start(found, query.get("PageToken"), page * page_size, page_size)
    chunk = found[start : start + page_size]
    path = f"/{API_VERSION}/Accounts/{account}/Messages.json"

    def uri(*extra: tuple[str, object]) -> str:
        return f"{path}?{urlencode([*filters, ('PageSize', page_size), *extra])}"

    current = [("Page", page)] + (
        [("PageToken", query["PageToken"])] if "PageToken" in query else []
    )
    more = start + page_size < len(found)
    return JSONResponse(
        {
            "end": start + len(chunk) - 1 if chunk else start,
            "first_page_uri": uri(("Page", 0)),
            "messages": [m.resource() for m in chunk],
            "next_page_uri": uri(("Page", page + 1), ("PageToken", f"PA{chunk[-1].sid}"))
            if chunk and more
            else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": uri(("Page", max(page - 1, 0)), ("PageToken", f"PB{chunk[0].sid}"))
            if chunk and start > 0
            else None,
            "start": start,
            "uri": uri(*current),
        }
    )


def _whole(value: str, low: int, high: int | None = None) -> int:
    if not value.isdigit() or int(value) < low or (high is not None and int(value) > high):
        raise NotModelled(f"the paging value {value!r}")
    return int(value)


def _page_start(found: list[FakeMessage], token: str | None, default: int, size: int) -> int:
    """Where a page starts: after (PA) or a page before (PB) the message its token names."""
    if not token:
        return default
    sids = [m.sid for m in found]
    if token[2:] not in sids:
        return len(found)
    at = sids.index(token[2:])
    return at + 1 if token.startswith("PA") else max(at - size, 0)


def _filter(name: str, value: str) -> Callable[[FakeMessage], bool]:
    if name == "To":
        return lambda m: m.to == value
    if name == "From":
        return lambda m: m.from_ == value
    compare = {"DateSent": operator.eq, "DateSent<": operator.le, "DateSent>": operator.ge}[name]
    moment = _moment(value)
    if isinstance(moment, datetime):
        return lambda m: m.date_sent is not None and compare(m.date_sent, moment)
    return lambda m: m.date_sent is not None and compare(m.date_sent.date(), moment)


def _moment(value: str) -> date | datetime:
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise NotModelled(f"the DateSent value {value!r}") from None
