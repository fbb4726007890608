"""The three calls of Lumen's rooms API the plugin makes, each failure in the platform's words.

``TemporaryFailure``: nothing happened, try again later. ``AnswerLost``: the request may have
arrived, its answer did not (the next attempt looks for the room). ``PermanentFailure``: Lumen
refused, and would again. No reason quotes a body, a link or a secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from praxis.core.providers.common import AnswerLost, PermanentFailure, TemporaryFailure
from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from praxis_video_lumen.settings import LumenSettings

ModelT = TypeVar("ModelT", bound=BaseModel)


class LumenRoom(BaseModel):
    """A room as Lumen answers it; fields the plugin does not use are ignored."""

    id: str = Field(min_length=1)
    guest_url: str = Field(min_length=1)
    host_url: str = Field(min_length=1)
    ends_at: AwareDatetime
    reference: str = ""


class _Rooms(BaseModel):
    rooms: list[LumenRoom]


class LumenApi:
    """One Lumen account, through the platform's shared HTTP client."""

    def __init__(self, http: httpx.AsyncClient, settings: LumenSettings) -> None:
        self._http = http
        self._base = str(settings.api_base_url).rstrip("/") + "/v1"
        self._headers = {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"}

    async def create_room(self, *, reference: str, ends_at: datetime, locked: bool) -> LumenRoom:
        body = {"reference": reference, "ends_at": ends_at.isoformat(), "locked": locked}
        response = await self._send("POST", "/rooms", json=body)
        _raise_for_status(response, "create the room")
        return _read(response, LumenRoom)

    async def find_room(self, reference: str) -> LumenRoom | None:
        """The room made with this reference, if an earlier attempt made one."""
        response = await self._send("GET", "/rooms", params={"reference": reference})
        _raise_for_status(response, "look for the room")
        rooms = _read(response, _Rooms).rooms
        return next((room for room in rooms if room.reference == reference), None)

    async def delete_room(self, room_id: str) -> None:
        response = await self._send("DELETE", f"/rooms/{quote(room_id, safe='')}")
        if response.status_code == 404:  # already gone is what was asked for
            return
        _raise_for_status(response, "delete the room")

    async def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            return await self._http.request(
                method, self._base + path, headers=self._headers, **options
            )
        except (httpx.ConnectError, httpx.ConnectTimeout):  # nothing was sent
            raise TemporaryFailure("Lumen could not be reached") from None
        except httpx.TimeoutException:  # sent, and perhaps acted on: the answer never came
            raise AnswerLost("Lumen did not answer in time") from None
        except httpx.TransportError:
            raise AnswerLost("Lumen's answer was lost on the way back") from None


def _raise_for_status(response: httpx.Response, action: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        wait = response.headers.get("retry-after", "")
        raise TemporaryFailure(
            f"Lumen is limiting our requests: could not {action} (429)",
            retry_after=float(wait) if wait.isdigit() else None,
        )
    if status >= 500:
        raise TemporaryFailure(f"Lumen failed to {action} ({status})")
    if status == 401:
        raise PermanentFailure(
            "Lumen refused the API key (401): check it in the video settings", code="unauthorized"
        )
    raise PermanentFailure(f"Lumen refused to {action} ({status})", code=f"http_{status}")


def _read(response: httpx.Response, model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate(response.json())
    except (ValueError, ValidationError):
        # from None: the error would quote the body, and the body holds the rooms' links
        raise TemporaryFailure("Lumen sent an answer the plugin could not read") from None
