"""What a clinic configures to send email through its SMTP relay."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from praxis.core.providers.common import OPERATOR_ONLY
from praxis.core.providers.manifest import Processor
from praxis.core.providers.network import CONNECTS_TO, REQUIRE_TLS

PLAIN_REFUSED = "Choose starttls or tls: messages hold reset links and appointments."


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(
        "localhost",
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9._:\[\]-]+$",
        description="The SMTP relay's host name",
        json_schema_extra=CONNECTS_TO,
    )
    port: int = Field(587, ge=1, le=65535, description="587 for STARTTLS, 465 for TLS")
    username: str = Field("", description="Leave empty when the relay needs no login")
    password: SecretStr = Field(SecretStr(""), description="The SMTP login's password")
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls upgrades a plain connection; tls connects over TLS"
    )
    from_address: EmailStr = Field(description="The address messages are sent from")
    # Whoever runs the relay receives patients' email addresses: the ledger and the privacy
    # notice name that company, so the clinic says which it is.
    relay_company: str = Field(
        min_length=2,
        max_length=200,
        description="The company that runs your SMTP relay, as your privacy notice names it "
        "(e.g. Mailgun Technologies, Inc.)",
    )
    relay_country: str = Field(
        "GB",
        pattern=r"^[A-Z]{2}$",
        description="Where that company handles your email: a two-letter country code (GB, IE)",
    )
    relay_transfer_safeguard: str = Field(
        "UK",
        min_length=2,
        max_length=200,
        description="If outside the UK, what protects the transfer (e.g. UK IDTA); else UK",
    )
    relay_privacy_policy_url: HttpUrl = Field(
        description="The address of that company's privacy policy"
    )
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

    @field_validator("security")
    @classmethod
    def _tls_required(cls, value: str, info: ValidationInfo) -> str:
        if value == "none" and (info.context or {}).get(REQUIRE_TLS):
            raise ValueError(PLAIN_REFUSED)
        return value

    def processor(self) -> Processor:
        """The relay's company, named in the ledger and the notice instead of the manifest's."""
        return Processor(
            legal_name=self.relay_company,
            country=self.relay_country,
            transfer_safeguard=self.relay_transfer_safeguard,
            privacy_policy_url=self.relay_privacy_policy_url,
        )
