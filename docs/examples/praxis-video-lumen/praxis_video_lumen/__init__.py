"""Video consultations in Lumen rooms: a Praxis plugin as a third party would publish it.

``pip install praxis-video-lumen`` and its entry point in the ``praxis`` group makes Lumen one
more choice on each clinic's providers page. The manifest says what is sent to whom; the
platform records every room in the clinic's ledger, so no code here does.
"""

from __future__ import annotations

from praxis.core.hookspecs import (
    DataCategory,
    DataUse,
    PluginManifest,
    Processor,
    ProviderFactory,
    hookimpl,
)

from praxis_video_lumen.provider import LumenVideo
from praxis_video_lumen.settings import LumenSettings

__all__ = ["LumenSettings", "LumenVideo", "praxis_manifest", "praxis_register_providers"]


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="video_lumen",
        kind="video",
        title="Lumen video rooms",
        version="1.0.0",
        requires=">=1.0,<2",  # the plugin API versions this was written and tested against
        description="A locked Lumen room per video consultation.",
        processor=Processor(
            legal_name="Lumen Video Ltd",
            country="GB",
            transfer_safeguard="processed in the UK only",
            privacy_policy_url="https://lumen-video.example/privacy",
        ),
        data=(
            DataUse(
                operation="create_meeting",
                categories=(DataCategory.APPOINTMENT,),
                purpose="host the video consultation",
                legal_basis="contract",
            ),
        ),
        settings_model=LumenSettings,
    )


@hookimpl
def praxis_register_providers() -> ProviderFactory:
    return LumenVideo
