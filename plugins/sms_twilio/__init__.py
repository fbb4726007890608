"""Booking confirmations and reminders by SMS through Twilio."""

from __future__ import annotations

from pydantic import BaseModel, Field, HttpUrl, SecretStr

from core.hookspecs import DataCategory, DataUse, PluginManifest, Processor, hookimpl


class TwilioSettings(BaseModel):
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr
    from_number: str = Field(description="Sender number in E.164 form, or a Messaging Service SID")
    api_base_url: HttpUrl = HttpUrl("https://api.twilio.com")


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="sms_twilio",
        kind="sms",
        title="Twilio SMS",
        version="0.1.0",
        description="Appointment confirmations and reminders by text message.",
        processor=Processor(
            legal_name="Twilio Ireland Limited",
            country="IE",
            transfer_safeguard="UK IDTA and Binding Corporate Rules for transfers to the US",
            privacy_policy_url="https://www.twilio.com/en-us/legal/privacy",
        ),
        data=(
            DataUse(
                operation="send_message",
                categories=(DataCategory.PHONE, DataCategory.APPOINTMENT),
                purpose="appointment confirmations and reminders",
                legal_basis="contract",
            ),
        ),
        settings_model=TwilioSettings,
    )
