"""What the platform operator configures for Stripe Connect: a clinic never types these."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

from praxis.core.providers.common import OPERATOR_ONLY


class StripeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret_key: SecretStr = Field(
        description="The platform's Stripe secret key (sk_...)", json_schema_extra=OPERATOR_ONLY
    )
    webhook_secret: SecretStr = Field(
        description="Signing secret of the platform's Connect webhook endpoint (whsec_...)",
        json_schema_extra=OPERATOR_ONLY,
    )
    api_base_url: HttpUrl = Field(
        HttpUrl("https://api.stripe.com"),
        description="The Stripe API, without /v1",
        json_schema_extra=OPERATOR_ONLY,
    )
    application_fee_percent: Decimal = Field(
        Decimal(0),
        ge=0,
        le=50,
        decimal_places=2,
        description="The platform's fee on each charge, in percent of the amount",
        json_schema_extra=OPERATOR_ONLY,
    )
    connect_country: str = Field(
        "GB",
        pattern=r"^[A-Z]{2}$",
        description="Country of new connected accounts when the platform names none (ISO 3166-1)",
        json_schema_extra=OPERATOR_ONLY,
    )
