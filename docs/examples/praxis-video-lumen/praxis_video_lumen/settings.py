"""What a clinic types in to hold its video consultations in its own Lumen account."""

from __future__ import annotations

from praxis.core.providers.common import OPERATOR_ONLY
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr


class LumenSettings(BaseModel):
    # a mistyped key must not be echoed back in the validation error
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    api_key: SecretStr = Field(
        min_length=16, description="API key, from Developers > API keys in the Lumen dashboard"
    )
    webhook_secret: SecretStr = Field(
        min_length=16,
        description="Signing secret of the webhook endpoint you added for this clinic in Lumen",
    )
    # Only the platform operator sets this: tests and the sandbox point it at a fake of Lumen,
    # and a clinic admin can never send data anywhere else.
    api_base_url: HttpUrl = Field(
        HttpUrl("https://api.lumen-video.example"),
        description="The Lumen API",
        json_schema_extra=OPERATOR_ONLY,
    )
