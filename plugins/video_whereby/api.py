"""The few calls of Whereby's meetings API we make, with its errors mapped to the outbox's."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncGenerator
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import AwareDatetime, BaseModel, Field

from praxis.core.providers.common import AnswerLost, PermanentFailure, TemporaryFailure

from .settings import WherebySettings

ModelT = TypeVar("ModelT", bound=BaseModel)

_PAGE_SIZE = 100  # the most Whereby returns per page: fewest calls when looking for a room


class WherebyMeeting(BaseModel):
    """A meeting as Whereby answers it; fields we do not use are ignored."""

    meeting_id: str = Field(alias="meetingId", min_length=1)
    room_name: str = Field("", alias="roomName")
    room_url: str = Field(alias="roomUrl", min_length=1)
    host_room_url: str | None = Field(None, alias="hostRoomUrl")
    end_date: AwareDatetime = Field(alias="endDate")


class _MeetingsPage(BaseModel):
    results: list[WherebyMeeting]
    cursor: str | None = None


class WherebyApi:
    """One organisation's view of ``/meetings``, through the platform's shared client."""

    def __init__(self, http: httpx.AsyncClient, settings: WherebySettings) -> None:
        self._http = http
        self._base = str(settings.api_base_url).rstrip("/")
        self._headers = {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"}

    async def create(self, body: dict[str, Any]) -> WherebyMeeting:
        response = await self._send("POST", "/meetings", body=body)
        _raise_for_status(response, "create the meeting")
        return _read(WherebyMeeting, response)

    async def meetings(self, *, fields: str) -> AsyncGenerator[WherebyMeeting, None]:
        """Every meeting of the organisation, page after page."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params = {"fields": fields, "limit": str(_PAGE_SIZE)}
            if cursor:
                params["cursor"] = cursor
            response = await self._send("GET", "/meetings", params=params)
            _raise_for_status(response, "list meetings")
            page = _read(_MeetingsPage, response)
            for meeting in page.results:
                yield meeting
            if not page.cursor or page.cursor in seen:  # a repeated cursor would loop forever
                return
            seen.add(page.cursor)
            cursor = page.cursor

    async def delete(self, meeting_id: str) -> None:
        response = await self._send("DELETE", f"/meetings/{quote(meeting_id, safe='')}")
        if response.status_code in (404, 410):  # already gone is what we wanted
            return
        _raise_for_status(response, "delete the meeting")

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            return await self._http.request(
                method, self._base + path, json=body, params=params, headers=self._headers
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing was sent
            raise TemporaryFailure("Whereby could not be reached") from exc
        except httpx.TimeoutException as exc:
            raise AnswerLost("Whereby did not answer in time") from exc
        except httpx.UnsupportedProtocol as exc:
            raise PermanentFailure("the Whereby API address is not an http(s) URL") from exc
        except httpx.RequestError as exc:  # sent, perhaps: the answer never came
            raise AnswerLost("Whereby's answer was lost") from exc


def _raise_for_status(response: httpx.Response, action: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        raise TemporaryFailure(
            f"Whereby is rate limiting us: could not {action} (429)",
            retry_after=_retry_after(response),
        )
    if status >= 500 or status == 408:  # their fault or a timeout: the next try may work
        raise TemporaryFailure(f"Whereby failed to {action} ({status})")
    if status == 401:
        raise PermanentFailure(
            f"Whereby refused the API key ({status}): check it in the video settings",
            code="unauthorized",
        )
    if status == 403:
        raise PermanentFailure(
            f"Whereby does not allow this organisation to {action} ({status})", code="forbidden"
        )
    raise PermanentFailure(f"Whereby refused to {action} ({status})", code=f"http_{status}")


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait: the Retry-After header (seconds or a date), else the body's msLeft."""
    header = response.headers.get("retry-after", "").strip()
    if header.isdigit():
        return float(header)
    if header:
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(0.0, when.timestamp() - time.time())
    try:
        ms_left = response.json()["data"]["msLeft"]
    except (ValueError, KeyError, TypeError):
        return None
    if isinstance(ms_left, int | float) and not isinstance(ms_left, bool) and ms_left >= 0:
        return float(ms_left) / 1000
    return None


def _read(model: type[ModelT], response: httpx.Response) -> ModelT:
    try:
        return model.model_validate(response.json())
    except ValueError:  # a success we cannot read: the retry looks for the room again
        # from None: the validation error quotes the body, host room URL included
        raise TemporaryFailure("Whereby sent an answer we could not read") from None
