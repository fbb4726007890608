"""The SDK's HTTP goes through the platform's shared ``httpx.AsyncClient``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping

import httpx
import stripe

# The SDK logs request bodies (debug) and Stripe's error messages (info), which may quote
# customer data: keep its own logger quiet whatever the platform's root level is.
logging.getLogger("stripe").setLevel(logging.WARNING)
# Telemetry writes an id under ~/.config and reports the host's platform to Stripe: not needed.
stripe.enable_telemetry = False


class PlatformHttpClient(stripe.HTTPClient):
    """Async only: the platform's client sets the timeouts and the transport (tests: a fake)."""

    name = "httpx"

    def __init__(self, http: httpx.AsyncClient) -> None:
        super().__init__()
        self._http = http

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: str | None = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            # No timeout argument: the shared client's own timeout applies.
            response = await self._http.request(method, url, headers=headers, content=post_data)
        except httpx.TransportError as exc:  # timeouts too; errors.py tells them apart by cause
            raise _connection_error(type(exc).__name__) from exc
        return response.content, response.status_code, response.headers

    def sleep_async(self, secs: float) -> Awaitable[None]:
        return asyncio.sleep(secs)

    async def close_async(self) -> None:
        """Nothing to close: the platform owns the shared client."""


def _connection_error(name: str) -> stripe.APIConnectionError:
    # The SDK's own clients raise this for any network failure; its __init__ is untyped.
    return stripe.APIConnectionError(name, should_retry=True)  # type: ignore[no-untyped-call]
