"""What a clinic configures to run video consultations in its own Whereby Embedded organisation."""

from __future__ import annotations

from pydantic import BaseModel, Field, HttpUrl, SecretStr

from praxis.core.providers.common import OPERATOR_ONLY


class WherebySettings(BaseModel):
    api_key: SecretStr = Field(description="Whereby Embedded API key")
    webhook_secret: SecretStr = Field(description="Secret for Whereby-Signature webhooks")
    api_base_url: HttpUrl = Field(
        HttpUrl("https://api.whereby.dev/v1"),
        description="The Whereby REST API, up to and including /v1",
        json_schema_extra=OPERATOR_ONLY,
    )
