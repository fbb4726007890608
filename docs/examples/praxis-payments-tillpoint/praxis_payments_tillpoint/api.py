"""Tillpoint's API as the plugin calls it: the platform's key, the connected account's
header, idempotency keys, and every failure in the platform's words."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from praxis.core.providers.common import AnswerLost, PermanentFailure, TemporaryFailure
from pydantic import BaseModel, ValidationError

from praxis_payments_tillpoint.settings import TillpointSettings

ModelT = TypeVar("ModelT", bound=BaseModel)


class Answer:
    """A successful answer, read into ``model``; ``replayed`` when Tillpoint answered a
    repeated idempotency key with what it did the first time."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.replayed = response.headers.get("idempotent-replayed") == "true"

    def read(self, model: type[ModelT]) -> ModelT:
        try:
            return model.model_validate(self._response.json())
        except (ValueError, ValidationError):  # the error would quote the body: leave it out
            raise TemporaryFailure("Tillpoint sent an answer the plugin could not read") from None


class TillpointApi:
    def __init__(self, http: httpx.AsyncClient, settings: TillpointSettings) -> None:
        self._http = http
        self._base = str(settings.api_base_url).rstrip("/") + "/v1"
        self._key = settings.secret_key.get_secret_value()

    async def call(
        self,
        method: str,
        path: str,
        action: str,
        *,
        account: str | None = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> Answer:
        """``action`` says what failed, in a reason staff read: "create the checkout"."""
        headers = {"Authorization": f"Bearer {self._key}"}
        if account:
            headers["Tillpoint-Account"] = account  # acting on the clinic's connected account
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self._http.request(
                method, self._base + path, headers=headers, **options
            )
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise TemporaryFailure("Tillpoint could not be reached") from None
        except httpx.TimeoutException:
            raise AnswerLost(f"Tillpoint did not answer in time ({action})") from None
        except httpx.TransportError:
            raise AnswerLost(f"Tillpoint's answer was lost ({action})") from None
        _raise_for_status(response, action)
        return Answer(response)


def error_code(response: httpx.Response) -> str | None:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) and code.isidentifier() else None


class Refused(PermanentFailure):
    """Tillpoint refused; ``code`` is its error code (the provider may expect some)."""


def _raise_for_status(response: httpx.Response, action: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        wait = response.headers.get("retry-after", "")
        raise TemporaryFailure(
            f"Tillpoint is limiting our requests: could not {action} (429)",
            retry_after=float(wait) if wait.isdigit() else None,
        )
    if status >= 500:
        raise TemporaryFailure(f"Tillpoint failed to {action} ({status})")
    if status == 401:
        raise PermanentFailure(
            "Tillpoint refused the platform's secret key (401): the operator must check it",
            code="unauthorized",
        )
    code = error_code(response)
    raise Refused(f"Tillpoint refused to {action} ({status}, {code or 'no code'})", code=code)
