"""Payments to the clinic's own Tillpoint account: a Praxis plugin as a third party would
publish it.

``pip install praxis-payments-tillpoint`` and its entry point in the ``praxis`` group makes
Tillpoint one more choice on each clinic's providers page. Consumers pay on Tillpoint's
hosted page, so no card reaches the platform. The manifest says what is sent to whom; the
platform records every checkout and refund in the clinic's ledger, so no code here does.
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

from praxis_payments_tillpoint.provider import TillpointPayments
from praxis_payments_tillpoint.settings import TillpointSettings

__all__ = [
    "TillpointPayments",
    "TillpointSettings",
    "praxis_manifest",
    "praxis_register_providers",
]


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="payments_tillpoint",
        kind="payments",
        title="Tillpoint payments",
        version="1.0.0",
        requires=">=1.0,<2",
        description="Consumers pay the clinic's own Tillpoint account on a hosted page.",
        processor=Processor(
            legal_name="Tillpoint Payments B.V.",
            country="NL",
            transfer_safeguard="EEA: UK adequacy regulations",
            privacy_policy_url="https://tillpoint.example/privacy",
        ),
        data=(
            # one DataUse per operation that sends personal data: the kind says which
            DataUse(
                operation="create_checkout",
                categories=(DataCategory.PAYMENT, DataCategory.APPOINTMENT, DataCategory.EMAIL),
                purpose="take payment for the consultation",
                legal_basis="contract",
            ),
            DataUse(
                operation="refund",
                categories=(DataCategory.PAYMENT,),
                purpose="refund a cancelled consultation",
                legal_basis="contract",
            ),
        ),
        settings_model=TillpointSettings,
    )


@hookimpl
def praxis_register_providers() -> ProviderFactory:
    return TillpointPayments
