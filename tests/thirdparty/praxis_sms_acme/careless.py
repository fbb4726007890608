"""A careless build of the same plugin: its manifest forgets that a text names the
appointment. The platform must refuse to send through it rather than log less than left."""

from __future__ import annotations

from praxis.core.hookspecs import DataCategory, DataUse, PluginManifest, ProviderFactory, hookimpl
from praxis_sms_acme import PROCESSOR
from praxis_sms_acme.provider import AcmeSms
from praxis_sms_acme.settings import AcmeSettings


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="sms_acme_careless",
        kind="sms",
        title="Acme SMS (careless build)",
        version="0.9.0",
        requires=">=1.0,<2",
        processor=PROCESSOR,
        data=(
            DataUse(
                operation="send_message",
                categories=(DataCategory.PHONE,),
                purpose="appointment texts",
                legal_basis="contract",
            ),
        ),
        settings_model=AcmeSettings,
    )


@hookimpl
def praxis_register_providers() -> ProviderFactory:
    return AcmeSms
