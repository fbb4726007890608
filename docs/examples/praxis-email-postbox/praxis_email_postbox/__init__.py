"""Email through Postbox: a Praxis plugin as a third party would publish it.

``pip install praxis-email-postbox`` and its entry point in the ``praxis`` group makes
Postbox one more choice on each clinic's providers page. The manifest says what is sent to
whom; the platform records every email in the clinic's ledger, so no code here does.
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

from praxis_email_postbox.provider import PostboxEmail
from praxis_email_postbox.settings import PostboxSettings

__all__ = ["PostboxEmail", "PostboxSettings", "praxis_manifest", "praxis_register_providers"]


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="email_postbox",
        kind="email",
        title="Postbox email",
        version="1.0.0",
        requires=">=1.0,<2",
        description="Confirmations, reminders and account emails, sent by Postbox.",
        processor=Processor(
            legal_name="Postbox Mail Ltd",
            country="IE",
            transfer_safeguard="EEA: UK adequacy regulations",
            privacy_policy_url="https://postbox-mail.example/privacy",
        ),
        data=(
            DataUse(
                operation="send_email",
                categories=(DataCategory.EMAIL, DataCategory.APPOINTMENT),
                purpose="appointment confirmations, reminders and account emails",
                legal_basis="contract",
            ),
        ),
        settings_model=PostboxSettings,
    )


@hookimpl
def praxis_register_providers() -> ProviderFactory:
    return PostboxEmail
