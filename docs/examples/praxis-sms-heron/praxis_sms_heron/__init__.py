"""Appointment texts through Heron SMS: a Praxis plugin as a third party would publish it.

``pip install praxis-sms-heron`` and its entry point in the ``praxis`` group makes Heron one
more choice on each clinic's providers page. The manifest says what is sent to whom; the
platform records every text in the clinic's ledger, so no code here does.
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

from praxis_sms_heron.provider import HeronSms
from praxis_sms_heron.settings import HeronSettings

__all__ = ["HeronSettings", "HeronSms", "praxis_manifest", "praxis_register_providers"]


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="sms_heron",
        kind="sms",
        title="Heron SMS",
        version="1.0.0",
        requires=">=1.0,<2",
        description="Confirmations, reminders and cancellations by text, from a UK gateway.",
        processor=Processor(
            legal_name="Heron Messaging Ltd",
            country="GB",
            transfer_safeguard="processed in the UK only",
            privacy_policy_url="https://heron-sms.example/privacy",
        ),
        data=(
            DataUse(
                operation="send_message",
                # a text goes to a phone number and tells of an appointment
                categories=(DataCategory.PHONE, DataCategory.APPOINTMENT),
                purpose="appointment confirmations, reminders and cancellations by text",
                legal_basis="contract",
            ),
        ),
        settings_model=HeronSettings,
    )


@hookimpl
def praxis_register_providers() -> ProviderFactory:
    return HeronSms
