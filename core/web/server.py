"""The HTTP protocol `praxis serve` runs: uvicorn's httptools, telling the app about an
absolute request line (``GET http://host/path``), whose host httptools would otherwise drop."""

from __future__ import annotations

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from praxis.core.web.middleware import TARGET_AUTHORITY


class ClinicHttpProtocol(HttpToolsProtocol):
    def on_headers_complete(self) -> None:
        authority = target_authority(self.url)
        if authority is not None:  # TenantMiddleware refuses it unless it matches Host
            self.scope[TARGET_AUTHORITY] = authority  # type: ignore[literal-required]
        super().on_headers_complete()


def target_authority(url: bytes) -> str | None:
    """``host[:port]`` of an absolute-form request target; None for the usual ``/path``."""
    if url.startswith(b"/"):
        return None
    try:
        parsed = httptools.parse_url(url)
    except httptools.HttpParserInvalidURLError:
        return None
    if not parsed.host:
        return None
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.host.decode('latin-1')}{port}"
