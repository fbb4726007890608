"""The platform's HTTP client for providers: it connects only where the OutboundPolicy allows.

Each new connection resolves the host, checks every address and connects to a checked one,
so a name that resolved to a public address when the settings were saved and to 10.0.0.1
now (DNS rebinding) is refused. TLS still verifies the host name the URL gave.
"""

from __future__ import annotations

import typing

import httpcore
import httpx
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

from praxis.core.providers.network import OutboundPolicy


class CheckedBackend(AsyncNetworkBackend):
    """httpcore's network backend, with the address check before every TCP connection."""

    def __init__(self, policy: OutboundPolicy, inner: AsyncNetworkBackend | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> AsyncNetworkStream:
        try:
            addresses = await self.policy.resolve(host, port)
        except OSError as exc:  # DNS does not know the name: as httpcore says it
            reason = f"could not resolve the host ({type(exc).__name__})"
            raise httpcore.ConnectError(reason) from None
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> AsyncNetworkStream:
        raise httpcore.ConnectError("providers are reached over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class CheckedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose connections go through ``CheckedBackend``."""

    def __init__(self, policy: OutboundPolicy, **options: typing.Any) -> None:
        super().__init__(**options)
        pool = self._pool
        # httpx builds its pool without a way to pass a backend: give it ours before first use
        if not isinstance(pool, httpcore.AsyncConnectionPool):
            raise TypeError("a checked transport cannot go through a proxy")
        pool._network_backend = CheckedBackend(policy)


def provider_client(policy: OutboundPolicy, *, timeout: float) -> httpx.AsyncClient:
    """The one client every provider is given (no proxies from the environment: the check
    must see the real peer)."""
    return httpx.AsyncClient(
        transport=CheckedTransport(policy),
        timeout=httpx.Timeout(timeout, connect=5.0),
        follow_redirects=False,
        headers={"User-Agent": "Praxis"},
    )
