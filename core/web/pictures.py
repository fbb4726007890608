"""Uploaded pictures served from our own routes: kept for good under a versioned address,
checked again (ETag) under any other."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

FOR_GOOD = "public, max-age=31536000, immutable"
ASK_AGAIN = "public, no-cache"


def picture_response(request: Request, data: bytes, media_type: str, digest: str) -> Response:
    etag = f'"{digest[:32]}"'
    # Only the address naming this version may be kept for good: an old ?v= must ask again.
    current = request.query_params.get("v") == digest[:12]
    headers = {"Cache-Control": FOR_GOOD if current else ASK_AGAIN, "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)
