"""The served protocol hands an absolute request line's host to the app (httptools drops it)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn

from praxis.core.web.middleware import TARGET_AUTHORITY
from praxis.core.web.server import ClinicHttpProtocol, target_authority


def test_the_authority_of_an_absolute_target_is_read() -> None:
    assert target_authority(b"/professionals?x=1") is None
    assert target_authority(b"http://beta.localhost:8000/login") == "beta.localhost:8000"
    assert target_authority(b"https://Beta.localhost/") == "Beta.localhost"
    assert target_authority(b"*") is None


async def test_the_served_protocol_puts_it_in_the_scope() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        seen.append(scope.get(TARGET_AUTHORITY))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=ClinicHttpProtocol, lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
            await asyncio.sleep(0.01)
        port = sock.getsockname()[1]
        for target in (b"http://beta.localhost/login", b"/login"):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: alpha.localhost\r\n\r\n")
            await writer.drain()
            assert (await reader.readline()).startswith(b"HTTP/1.1 204")
            writer.close()
            await writer.wait_closed()
    finally:
        server.should_exit = True
        await serving
    assert seen == ["beta.localhost", None]
