"""Appointment texts through Acme SMS: a Praxis plugin as a third party would publish it.

Install it (``pip install praxis-sms-acme``) and its entry point in the ``praxis`` group
makes it one more choice on each clinic's providers page. It declares what it sends and to
whom; the platform records every message in the clinic's ledger, so no code here does.
"""

from __future__ import annotations

from praxis.core.hookspecs import (
    DataCategory,
    DataUse,
    PluginManifest,
    Processor,
    ProviderFactory,
    hookimpl,
)
from praxis_sms_acme.provider import AcmeSms
from praxis_sms_acme.settings import AcmeSettings

PROCESSOR = Processor(
    legal_name="Acme SMS Ltd",
    country="GB",
    transfer_safeguard="processed in the UK only",
    privacy_policy_url="https://acme-sms.example/privacy",
)


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="sms_acme",
        kind="sms",
        title="Acme SMS",
        version="1.0.0",
        requires=">=1.0,<2",
        description="Appointment texts from a UK gateway.",
        processor=PROCESSOR,
        data=(
            DataUse(
                operation="send_message",
                categories=(DataCategory.PHONE, DataCategory.APPOINTMENT),
                purpose="appointment confirmations and reminders by text",
                legal_basis="contract",
            ),
        ),
        settings_model=AcmeSettings,
    )


@hookimpl
def praxis_register_providers() -> ProviderFactory:
    return AcmeSms
