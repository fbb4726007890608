"""The conformance kit: checks a plugin author can run on a provider before shipping it.

``problems(manifest, factory, settings)`` builds the provider as the platform would and
returns one sentence per rule broken: the kind's Protocol is implemented, and the manifest
declares, for every operation of its kind, at least the categories the platform sends with
it (the privacy notice is generated from the manifest, so it must never name less).
``praxis plugins check`` runs it for installed plugins; tests can call it directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from praxis.core.providers.common import ProviderContext, ProviderFactory
from praxis.core.providers.email import EmailProvider
from praxis.core.providers.manifest import DataCategory, PluginManifest
from praxis.core.providers.payments import PaymentsProvider
from praxis.core.providers.questionnaires import QuestionnaireProvider
from praxis.core.providers.sms import SmsProvider
from praxis.core.providers.video import VideoProvider

PROTOCOLS: dict[str, type] = {
    "video": VideoProvider,
    "payments": PaymentsProvider,
    "sms": SmsProvider,
    "email": EmailProvider,
    "questionnaires": QuestionnaireProvider,
}

# What the platform sends with each operation that carries personal data (at most).
SENT: dict[str, dict[str, tuple[DataCategory, ...]]] = {
    "video": {"create_meeting": (DataCategory.APPOINTMENT,)},
    "payments": {
        "create_checkout": (DataCategory.PAYMENT, DataCategory.APPOINTMENT, DataCategory.EMAIL),
        "refund": (DataCategory.PAYMENT,),
    },
    "sms": {"send_message": (DataCategory.PHONE, DataCategory.APPOINTMENT)},
    "email": {"send_email": (DataCategory.EMAIL, DataCategory.APPOINTMENT)},
    "questionnaires": {},
}


def problems(
    manifest: PluginManifest,
    factory: ProviderFactory | None,
    settings: Mapping[str, Any],
    *,
    http: httpx.AsyncClient,
) -> list[str]:
    """Every rule the plugin breaks, as sentences; empty when it conforms."""
    found: list[str] = []
    if factory is None:
        return [f"{manifest.name} registers no provider (implement praxis_register_providers)"]
    if manifest.processor is None and SENT[manifest.kind]:
        found.append(f"{manifest.name} sends data to a third party but names no processor")
    declared = {use.operation: set(use.categories) for use in manifest.data}
    for operation, categories in SENT[manifest.kind].items():
        missing = set(categories) - declared.get(operation, set())
        if missing:
            names = ", ".join(sorted(c.value for c in missing))
            found.append(
                f"{manifest.name}: the manifest must declare {names} for {operation} "
                "(the platform sends them, and the privacy notice is made from the manifest)"
            )
    try:
        validated = manifest.settings_model.model_validate(dict(settings))
    except ValidationError as exc:
        return [*found, f"{manifest.name}: the example settings are not valid: {exc}"]
    context = ProviderContext(
        settings=validated,
        http=http,
        tenant_slug="conformance",
        tenant_name="Conformance Clinic",
        public_url="https://conformance.praxis.example",
        webhook_url=f"https://conformance.praxis.example/-/plugins/{manifest.name}/webhook",
    )
    provider = factory(context)
    protocol = PROTOCOLS[manifest.kind]
    if not isinstance(provider, protocol):
        wanted = [n for n in dir(protocol) if not n.startswith("_") and not hasattr(provider, n)]
        found.append(
            f"{manifest.name}: its provider does not implement {protocol.__name__} "
            f"(missing: {', '.join(wanted) or 'see docs/plugins.md'})"
        )
    return found
