"""Intake questionnaires: the DTOs and the Protocol a questionnaires plugin implements.

Tenants author questionnaires as FHIR R4 ``Questionnaire`` resources. The plugin reads
them into an ``IntakeForm`` the platform renders, checks submitted answers against it
(``required``, ``enableWhen``, types, choices) and writes a FHIR ``QuestionnaireResponse``.
The platform stores the answers, encrypted with the tenant's data key, and decides who
may read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol, runtime_checkable

from praxis.core.providers.common import Kind

AnswerValue = str | int | float | bool | date  # a choice is answered with its option's code
Answers = dict[str, AnswerValue]  # by linkId; unanswered and disabled questions are absent
QuestionType = Literal["string", "text", "integer", "decimal", "date", "boolean", "choice"]
Operator = Literal["exists", "=", "!=", ">", "<", ">=", "<="]
SHARING_CONSENT = "share-with-professional"  # linkId of the consent-to-share boolean


@dataclass(frozen=True)
class Option:
    code: str
    display: str


@dataclass(frozen=True)
class Condition:
    """FHIR enableWhen: show (and accept) a question only when another one's answer fits."""

    question: str  # the linkId it depends on
    operator: Operator
    answer: AnswerValue  # for "exists": True or False


@dataclass(frozen=True)
class Question:
    link_id: str
    text: str
    type: QuestionType
    required: bool = False
    options: tuple[Option, ...] = ()
    enable_when: tuple[Condition, ...] = ()
    enable_behavior: Literal["all", "any"] = "all"
    max_length: int | None = None


@dataclass(frozen=True)
class IntakeForm:
    title: str
    version: str
    questions: tuple[Question, ...]
    url: str | None = None

    @property
    def sharing_consent(self) -> Question | None:
        """The boolean question by which the consumer agrees to share with the Professional."""
        return next((q for q in self.questions if q.link_id == SHARING_CONSENT), None)


class InvalidQuestionnaire(ValueError):
    """The Questionnaire JSON cannot be used; ``problems`` says where and why, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class InvalidAnswers(ValueError):
    """Some answers are missing or wrong; ``fields`` maps each linkId to a sentence."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Some answers need correcting.")
        self.fields = fields


@dataclass(frozen=True)
class ReadAnswers:
    answers: Answers
    enabled: frozenset[str] = field(default_factory=frozenset)  # linkIds that applied


@runtime_checkable
class QuestionnaireProvider(Protocol):
    def default_questionnaire(self) -> dict[str, Any]:
        """The intake questionnaire a tenant starts with (FHIR R4 JSON)."""
        ...

    def read_questionnaire(self, resource: Mapping[str, Any]) -> IntakeForm:
        """Validate a FHIR Questionnaire; raise InvalidQuestionnaire naming each problem."""
        ...

    def read_answers(self, form: IntakeForm, submitted: Mapping[str, str]) -> ReadAnswers:
        """Check a submitted form (values as typed); raise InvalidAnswers per question."""
        ...

    def is_enabled(self, form: IntakeForm, question: Question, answers: Answers) -> bool:
        """Whether ``question`` applies given the other answers (its enableWhen)."""
        ...

    def to_response(
        self,
        resource: Mapping[str, Any],
        answers: Answers,
        *,
        subject_reference: str,
        authored: datetime,
    ) -> dict[str, Any]:
        """A FHIR R4 QuestionnaireResponse (status completed) for these answers."""
        ...


# Questionnaires run inside the platform: no operation sends anything to a third party.
KIND = Kind("questionnaires", "intake questionnaires", QuestionnaireProvider, ())
