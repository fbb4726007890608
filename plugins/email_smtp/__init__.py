"""Email through SMTP; in local development, into a mailbox on disk instead."""

from __future__ import annotations

from praxis.core.hookspecs import (
    DataCategory,
    DataUse,
    PluginManifest,
    Processor,
    ProviderFactory,
    hookimpl,
)
from praxis.plugins.email_smtp.provider import SmtpEmail
from praxis.plugins.email_smtp.settings import SmtpSettings

__all__ = ["SmtpEmail", "SmtpSettings"]


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="email_smtp",
        kind="email",
        title="Email (SMTP)",
        version="0.1.0",
        requires=">=1.1,<2",  # EmailMessage.headers and inbound mail
        description="Confirmations, reminders and password resets by email.",
        processor=Processor(
            legal_name="The clinic's email provider (SMTP relay)",
            country="GB",
            transfer_safeguard="UK",
            privacy_policy_url="https://praxis.example/privacy/email",
        ),
        data=(
            DataUse(
                operation="send_email",
                categories=(DataCategory.EMAIL, DataCategory.APPOINTMENT),
                purpose="appointment confirmations, reminders and account messages",
                legal_basis="contract",
            ),
        ),
        settings_model=SmtpSettings,
    )


@hookimpl
def praxis_register_providers() -> ProviderFactory:
    return SmtpEmail
