"""What a clinic configures to send email through its SMTP relay."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr

from praxis.core.providers.common import OPERATOR_ONLY


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field("localhost", min_length=1, description="The SMTP relay's host name")
    port: int = Field(587, ge=1, le=65535, description="587 for STARTTLS, 465 for TLS")
    username: str = Field("", description="Leave empty when the relay needs no login")
    password: SecretStr = Field(SecretStr(""), description="The SMTP login's password")
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls upgrades a plain connection; tls connects over TLS"
    )
    from_address: EmailStr = Field(description="The address messages are sent from")
    timeout_seconds: float = Field(15, gt=0, le=120, description="Per SMTP command")
    inbound_secret: SecretStr = Field(
        SecretStr(""),
        description="Signs the clinic's inbound mail your mail server forwards (optional)",
    )
    mailbox_dir: str | None = Field(
        None,
        min_length=1,
        description="Write messages into this Maildir instead of sending them (development)",
        json_schema_extra=OPERATOR_ONLY,
    )
