"""What a clinic configures to send text messages from its own Twilio account."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

from praxis.core.providers.common import OPERATOR_ONLY

MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_AUTH_TOKEN = re.compile(r"^[0-9a-fA-F]{32}$")


class TwilioSettings(BaseModel):
    # a mistyped Auth Token must not be echoed back in the validation error
    model_config = ConfigDict(hide_input_in_errors=True)

    account_sid: str = Field(
        pattern=r"^AC[0-9a-fA-F]{32}$",
        description="Account SID (AC followed by 32 characters), from the Twilio Console",
    )
    auth_token: SecretStr = Field(description="Auth Token, from the Twilio Console")
    from_number: str = Field(
        pattern=r"^(\+[1-9][0-9]{1,14}|MG[0-9a-fA-F]{32})$",
        description="Sender number in E.164 form (+447700900123), or a Messaging Service SID",
    )
    api_base_url: HttpUrl = Field(
        HttpUrl("https://api.twilio.com"),
        description="The Twilio REST API origin",
        json_schema_extra=OPERATOR_ONLY,
    )

    @field_validator("auth_token")
    @classmethod
    def _auth_token(cls, value: SecretStr) -> SecretStr:
        if not _AUTH_TOKEN.match(value.get_secret_value()):
            raise ValueError("the Auth Token is the 32-character code under Account Info")
        return value

    @property
    def api_origin(self) -> str:
        return str(self.api_base_url).rstrip("/")
