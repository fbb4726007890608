"""Intake questionnaires, answered and stored within the platform."""

from __future__ import annotations

from praxis.core.hookspecs import DataCategory, DataUse, PluginManifest, ProviderFactory, hookimpl
from praxis.plugins.questionnaires.provider import IntakeQuestionnaires

__all__ = ["IntakeQuestionnaires"]


@hookimpl
def praxis_manifest() -> PluginManifest:
    return PluginManifest(
        name="questionnaires",
        kind="questionnaires",
        title="Intake questionnaires",
        version="0.1.0",
        requires=">=1.0,<2",
        description="The tenant's intake questionnaire; answers never leave the platform.",
        processor=None,
        data=(
            DataUse(
                operation="store_answers",
                categories=(DataCategory.HEALTH,),
                purpose="prepare the Professional for the first consultation",
                legal_basis="explicit consent (UK GDPR Art. 9(2)(a)) and health care (9(2)(h))",
            ),
        ),
    )


@hookimpl
def praxis_register_providers() -> ProviderFactory:
    return IntakeQuestionnaires
