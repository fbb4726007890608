"""What a clinic types in to send texts from its own Acme SMS account."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

from praxis.core.providers.common import OPERATOR_ONLY


class AcmeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    api_key: SecretStr = Field(
        min_length=20, description="API key, from Settings > API in the Acme SMS dashboard"
    )
    sender: str = Field(
        pattern=r"^(\+[1-9][0-9]{6,14}|[A-Za-z][A-Za-z0-9]{2,10})$",
        description="Sender: a number in E.164 form, or a name of 3 to 11 letters and digits",
    )
    api_base_url: HttpUrl = Field(
        HttpUrl("https://api.acme-sms.example"),
        description="The Acme SMS API",
        json_schema_extra=OPERATOR_ONLY,
    )
