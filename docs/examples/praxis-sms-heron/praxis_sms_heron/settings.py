"""What a clinic types in to send appointment texts from its own Heron SMS account."""

from __future__ import annotations

from praxis.core.providers.common import OPERATOR_ONLY
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr


class HeronSettings(BaseModel):
    # a mistyped key must not be echoed back in the validation error
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    api_key: SecretStr = Field(
        min_length=16, description="API key, from Settings > API in the Heron dashboard"
    )
    signing_secret: SecretStr = Field(
        min_length=16, description="Webhook signing secret, from the same page"
    )
    sender: str = Field(
        pattern=r"^(\+[1-9][0-9]{6,14}|[A-Za-z][A-Za-z0-9]{2,10})$",
        description="Your Heron number in E.164 form (+447700900123), or a sender name of "
        "3 to 11 letters and digits",
    )
    api_base_url: HttpUrl = Field(
        HttpUrl("https://api.heron-sms.example"),
        description="The Heron SMS API",
        json_schema_extra=OPERATOR_ONLY,
    )
