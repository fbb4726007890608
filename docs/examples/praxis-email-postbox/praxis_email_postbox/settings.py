"""What a clinic types in to send its emails through its own Postbox account."""

from __future__ import annotations

from praxis.core.providers.common import OPERATOR_ONLY
from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, SecretStr


class PostboxSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    server_token: SecretStr = Field(
        min_length=16, description="Server token, from Servers > API tokens in Postbox"
    )
    from_address: EmailStr = Field(
        description="The address emails come from: one Postbox has verified for your clinic"
    )
    api_base_url: HttpUrl = Field(
        HttpUrl("https://api.postbox-mail.example"),
        description="The Postbox API",
        json_schema_extra=OPERATOR_ONLY,
    )
