"""What the platform operator configures for Tillpoint: a clinic never types these.

The platform holds one Tillpoint platform account; each clinic (or Professional) opens a
connected account of its own from its admin pages, and is paid there directly.
"""

from __future__ import annotations

from decimal import Decimal

from praxis.core.providers.common import OPERATOR_ONLY
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr


class TillpointSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    secret_key: SecretStr = Field(
        min_length=16,
        description="The platform's Tillpoint secret key, from Developers > Keys",
        json_schema_extra=OPERATOR_ONLY,
    )
    webhook_secret: SecretStr = Field(
        min_length=16,
        description="The platform's webhook signing secret, from Developers > Webhooks",
        json_schema_extra=OPERATOR_ONLY,
    )
    platform_fee_percent: Decimal = Field(
        Decimal(0),
        ge=0,
        le=50,
        decimal_places=2,
        description="The platform's fee on each payment, in percent of the amount",
        json_schema_extra=OPERATOR_ONLY,
    )
    api_base_url: HttpUrl = Field(
        HttpUrl("https://api.tillpoint.example"),
        description="The Tillpoint API",
        json_schema_extra=OPERATOR_ONLY,
    )
