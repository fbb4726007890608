"""Video consultations through Whereby (meetings API v1)."""

from __future__ import annotations

from praxis.core.hookspecs import (
    DataCategory,
    DataUse,
    PluginManifest,
    Processor,
    ProviderFactory,
    hookimpl,
)

from .provider import WherebyVideo
from .settings import WherebySettings

__all__ = ["WherebySettings", "WherebyVideo", "praxis_manifest", "praxis_register_providers"]


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="video_whereby",
        kind="video",
        title="Whereby video rooms",
        version="0.1.0",
        requires=">=1.0,<2",
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


@hookimpl
def praxis_register_providers() -> ProviderFactory:
    return WherebyVideo
