"""POST /-/plugins/<name>/webhook[/<topic>]: providers tell a clinic what happened.

No session, no CSRF (the provider's signature is the credential); the raw body goes to the
plugin to verify before anything is parsed. 400 for a rejected webhook, 2xx once stored.
"""

from __future__ import annotations

import re

import structlog
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from praxis.core.db import utcnow
from praxis.core.errors import NotFound
from praxis.core.plugins.facade import PluginFault
from praxis.core.providers.common import WebhookRejected, WebhookRequest
from praxis.core.runtime import Runtime
from praxis.core.webhooks import ingest
from praxis.tenants.directory import TenantInfo

log = structlog.get_logger("praxis.webhooks")
_TOPIC = re.compile(r"^[a-z0-9_-]{0,32}$")


async def receive(request: Request) -> Response:
    site = request.scope["state"]["site"]
    plugin = request.path_params["plugin"]
    topic = request.path_params.get("topic", "")
    if not isinstance(site, TenantInfo) or not _TOPIC.match(topic):
        return PlainTextResponse("Not found.", status_code=404)
    runtime: Runtime = request.app.state.runtime
    # The URL the provider signed is the one it was given: the tenant's public address, not
    # whatever a proxy in front of us turned it into.
    query = request.url.query
    public = (
        runtime.settings.site_url(site.slug) + request.url.path + (f"?{query}" if query else "")
    )
    webhook = WebhookRequest(
        url=public,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
        topic=topic,
        received_at=utcnow(),
    )
    try:
        reply = await ingest(runtime.database, runtime.registry, site, plugin, webhook)
    except NotFound:
        return PlainTextResponse("Not found.", status_code=404)
    except WebhookRejected as exc:
        log.warning("webhook_rejected", plugin=plugin, reason=str(exc)[:200])
        return PlainTextResponse("Rejected: the webhook could not be verified.", status_code=400)
    except PluginFault:  # logged, named; the provider retries later, when it may be fixed
        return PlainTextResponse("Not applied: please try again later.", status_code=500)
    return Response(reply.body, media_type=reply.media_type)


routes = [
    Route("/-/plugins/{plugin}/webhook", receive, methods=["POST"], name="webhook"),
    Route("/-/plugins/{plugin}/webhook/{topic}", receive, methods=["POST"], name="webhook_topic"),
]
