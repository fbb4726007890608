"""The Twilio SDK's HTTP client, sending through the platform's httpx client."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from twilio.http import AsyncHttpClient  # type: ignore[import-untyped]
from twilio.http.response import Response  # type: ignore[import-untyped]

SDK_ORIGIN = "https://api.twilio.com"
_logger = logging.getLogger(__name__)

FormValue = str | list[str]


class HttpxTwilioClient(AsyncHttpClient):  # type: ignore[misc]
    """Sends the SDK's requests through ``http`` to ``origin`` instead of api.twilio.com.

    One instance serves one provider call, so ``retry_after`` is that call's own. It never
    retries (the outbox does) and never logs: the SDK's request log would print phone numbers.
    """

    def __init__(self, http: httpx.AsyncClient, origin: str) -> None:
        super().__init__(_logger, is_async=True)
        self._http = http
        self._origin = origin.rstrip("/")
        self.retry_after: float | None = None

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the SDK's signature)
        allow_redirects: bool = False,
    ) -> Response:
        response = await self._http.request(
            method,
            self.rebased(url),
            # None, not {}: empty params would strip the query of a next_page_uri
            params=_form(params) or None,
            data=_form(data) or None,
            headers=headers,
            auth=httpx.BasicAuth(*auth) if auth else httpx.USE_CLIENT_DEFAULT,
            # None from the SDK means "no preference": keep the platform's timeouts
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            follow_redirects=allow_redirects,
        )
        self.retry_after = retry_after_seconds(response.headers.get("retry-after"))
        return Response(response.status_code, response.text, dict(response.headers))

    def rebased(self, url: str) -> str:
        """``url`` with the SDK's fixed origin replaced by the configured one."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != SDK_ORIGIN:
            return url
        origin = urlsplit(self._origin)
        return urlunsplit(
            parts._replace(
                scheme=origin.scheme, netloc=origin.netloc, path=origin.path + parts.path
            )
        )


def _form(values: dict[str, object] | None) -> dict[str, FormValue]:
    """The SDK's loosely typed parameters as strings (lists stay lists: MediaUrl repeats)."""
    form: dict[str, FormValue] = {}
    for name, value in (values or {}).items():
        form[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return form


def retry_after_seconds(header: str | None) -> float | None:
    """Retry-After as seconds, whether given as a number or as an HTTP date."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
