"""Inbound webhooks: the events seen (``models``) and how one is verified, stored once and
applied (``ingest``). The HTTP endpoint is the web layer's (``praxis.core.web.pages.webhooks``)."""

from praxis.core.webhooks.ingest import APPLIERS, applies, ingest
from praxis.core.webhooks.models import WebhookEvent

__all__ = ["APPLIERS", "WebhookEvent", "applies", "ingest"]
