"""``IntakeQuestionnaires``: the QuestionnaireProvider; everything happens on the platform."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from praxis.core.providers.common import ProviderContext
from praxis.core.providers.questionnaires import Answers, IntakeForm, Question, ReadAnswers
from praxis.plugins.questionnaires.answers import is_enabled, read_answers
from praxis.plugins.questionnaires.default import default_questionnaire
from praxis.plugins.questionnaires.reading import read_questionnaire
from praxis.plugins.questionnaires.response import to_response


class IntakeQuestionnaires:
    """FHIR R4 in and out; answers never leave the platform, so no processor is named."""

    def __init__(self, context: ProviderContext[BaseModel]) -> None:
        self.context = context

    def default_questionnaire(self) -> dict[str, Any]:
        return default_questionnaire()

    def read_questionnaire(self, resource: Mapping[str, Any]) -> IntakeForm:
        """Raise InvalidQuestionnaire, one line per problem, naming the item by linkId."""
        return read_questionnaire(resource)

    def read_answers(self, form: IntakeForm, submitted: Mapping[str, str]) -> ReadAnswers:
        """Raise InvalidAnswers: a sentence per question to correct, by linkId."""
        return read_answers(form, submitted)

    def is_enabled(self, form: IntakeForm, question: Question, answers: Answers) -> bool:
        return is_enabled(form, question, answers)

    def to_response(
        self,
        resource: Mapping[str, Any],
        answers: Answers,
        *,
        subject_reference: str,
        authored: datetime,
    ) -> dict[str, Any]:
        """Raise InvalidQuestionnaire, or InvalidAnswers for answers read_answers never gives."""
        return to_response(
            resource, answers, subject_reference=subject_reference, authored=authored
        )
