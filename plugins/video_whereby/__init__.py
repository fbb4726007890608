"""Video consultations through Whereby (meetings API v1)."""

from __future__ import annotations

from pydantic import BaseModel, Field, HttpUrl, SecretStr

from core.hookspecs import DataCategory, DataUse, PluginManifest, Processor, hookimpl


class WherebySettings(BaseModel):
    api_key: SecretStr = Field(description="Whereby Embedded API key")
    webhook_secret: SecretStr = Field(description="Secret for Whereby-Signature webhooks")
    api_base_url: HttpUrl = HttpUrl("https://api.whereby.dev/v1")


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="video_whereby",
        kind="video",
        title="Whereby video rooms",
        version="0.1.0",
        description="A locked Whereby room per video consultation.",
        processor=Processor(
            legal_name="Video Communication Services AS (Whereby)",
            country="NO",
            transfer_safeguard="EEA: UK adequacy regulations",
            privacy_policy_url="https://whereby.com/information/tos/privacy-policy",
        ),
        data=(
            DataUse(
                operation="create_meeting",
                categories=(DataCategory.APPOINTMENT,),
                purpose="host the video consultation",
                legal_basis="contract",
            ),
        ),
        settings_model=WherebySettings,
    )
