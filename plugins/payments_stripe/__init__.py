"""Payments to the Professional's own Stripe account (Stripe Connect, direct charges).

Speaks Stripe API version 2026-10-28.endive (``STRIPE_API_VERSION``), pinned on every request
whatever the installed SDK's default: see ``version.py``.
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
from praxis.plugins.payments_stripe.provider import StripePayments
from praxis.plugins.payments_stripe.settings import StripeSettings
from praxis.plugins.payments_stripe.version import STRIPE_API_VERSION

__all__ = ["STRIPE_API_VERSION", "StripePayments", "StripeSettings"]


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="payments_stripe",
        kind="payments",
        title="Stripe Connect payments",
        version="0.1.0",
        requires=">=1.0,<2",
        description="Consumers pay the clinic's connected account on Stripe's hosted page.",
        processor=Processor(
            legal_name="Stripe Payments Europe, Limited",
            country="IE",
            transfer_safeguard="EEA: UK adequacy regulations; SCCs for onward transfers",
            privacy_policy_url="https://stripe.com/privacy",
        ),
        data=(
            DataUse(
                operation="create_checkout",
                categories=(DataCategory.EMAIL, DataCategory.PAYMENT, DataCategory.APPOINTMENT),
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
        settings_model=StripeSettings,
    )


@hookimpl
def praxis_register_providers() -> ProviderFactory:
    return StripePayments
