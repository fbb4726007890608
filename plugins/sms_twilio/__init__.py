"""Booking confirmations and reminders by SMS through Twilio."""

from __future__ import annotations

from praxis.core.hookspecs import (
    DataCategory,
    DataUse,
    PluginManifest,
    Processor,
    ProviderFactory,
    hookimpl,
)
from praxis.plugins.sms_twilio.provider import TwilioSms
from praxis.plugins.sms_twilio.settings import TwilioSettings

__all__ = ["TwilioSettings", "TwilioSms", "praxis_manifest", "praxis_register_providers"]


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="sms_twilio",
        kind="sms",
        title="Twilio SMS",
        version="0.1.0",
        requires=">=1.2,<2",  # erase_message came in 1.2
        description="Appointment confirmations and reminders by text message.",
        processor=Processor(
            legal_name="Twilio Ireland Limited",
            country="IE",
            transfer_safeguard="UK IDTA and Binding Corporate Rules for transfers to the US",
            privacy_policy_url="https://www.twilio.com/en-us/legal/privacy",
        ),
        data=(
            DataUse(
                operation="send_message",
                categories=(DataCategory.PHONE, DataCategory.APPOINTMENT),
                purpose="appointment confirmations and reminders",
                legal_basis="contract",
            ),
        ),
        settings_model=TwilioSettings,
    )


@hookimpl
def praxis_register_providers() -> ProviderFactory:
    return TwilioSms
