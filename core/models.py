"""Every table, imported in one place so that Base.metadata knows them all (alembic, tests)."""

from __future__ import annotations

from core import datakeys, ledger, outbox, webhooks
from core.accounts import models as accounts
from core.booking import models as booking
from core.intake import models as intake
from core.notifications import models as notifications
from core.payments import models as payments
from core.providers import settings as provider_settings
from core.video import models as video
from tenants import models as tenants

__all__ = [
    "accounts",
    "booking",
    "datakeys",
    "intake",
    "ledger",
    "notifications",
    "outbox",
    "payments",
    "provider_settings",
    "tenants",
    "video",
    "webhooks",
]
