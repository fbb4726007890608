"""Typed answers into a FHIR R4 QuestionnaireResponse, nested as the Questionnaire is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.questionnaire import QuestionnaireItem

from praxis.core.providers.questionnaires import (
    Answers,
    AnswerValue,
    IntakeForm,
    InvalidAnswers,
    Question,
)
from praxis.plugins.questionnaires.answers import is_enabled
from praxis.plugins.questionnaires.fhir import checked_response, parse_questionnaire
from praxis.plugins.questionnaires.reading import link_id, read_form


def to_response(
    resource: Mapping[str, Any],
    answers: Answers,
    *,
    subject_reference: str,
    authored: datetime,
) -> dict[str, Any]:
    """Raise InvalidQuestionnaire for a bad resource; InvalidAnswers for answers it cannot hold.

    Answers to questions that do not apply (their enableWhen) are left out, as FHIR requires.
    """
    if authored.tzinfo is None:
        raise ValueError("authored must be timezone-aware")
    questionnaire = parse_questionnaire(resource)
    form = read_form(questionnaire)
    _check(form, answers)
    body: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "subject": {"reference": subject_reference},
        "authored": authored.isoformat(),
    }
    if form.url:
        body["questionnaire"] = f"{form.url}|{form.version}" if form.version else form.url
    kept = {q.link_id: answers[q.link_id] for q in form.questions if _applies(form, q, answers)}
    items = _items(questionnaire.item or [], kept)
    if items:
        body["item"] = items
    return checked_response(body)


def _applies(form: IntakeForm, question: Question, answers: Answers) -> bool:
    return question.link_id in answers and is_enabled(form, question, answers)


def _check(form: IntakeForm, answers: Answers) -> None:
    """Answers come from read_answers; anything else is a mistake worth a loud error."""
    by_id = {q.link_id: q for q in form.questions}
    problems: dict[str, str] = {}
    for key, value in answers.items():
        question = by_id.get(key)
        if question is None:
            problems[key] = "This question is not in the questionnaire."
        elif not _fits(question.type, value):
            problems[key] = f"This {question.type} question cannot take {type(value).__name__}."
        elif question.type == "choice" and value not in {o.code for o in question.options}:
            problems[key] = "This answer is not one of the options."
    if problems:
        raise InvalidAnswers(problems)


def _fits(kind: str, value: AnswerValue) -> bool:
    match kind:
        case "boolean":
            return isinstance(value, bool)
        case "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        case "decimal":
            return isinstance(value, int | float) and not isinstance(value, bool)
        case "date":
            return isinstance(value, date) and not isinstance(value, datetime)
        case _:
            return isinstance(value, str)


def _items(items: Sequence[QuestionnaireItem], answers: Answers) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in items:
        if item.type == "group":
            inside = _items(item.item or [], answers)
            if inside:
                found.append(_labelled(item, {"item": inside}))
        elif link_id(item) in answers:
            found.append(_labelled(item, {"answer": [_value(item, answers[link_id(item)])]}))
    return found


def _labelled(item: QuestionnaireItem, content: dict[str, Any]) -> dict[str, Any]:
    labelled: dict[str, Any] = {"linkId": link_id(item)}
    if item.text:
        labelled["text"] = item.text
    return labelled | content


def _value(item: QuestionnaireItem, value: AnswerValue) -> dict[str, Any]:
    match item.type:
        case "boolean":
            return {"valueBoolean": value}
        case "integer":
            return {"valueInteger": value}
        case "decimal":
            return {"valueDecimal": value}
        case "date":
            assert isinstance(value, date)
            return {"valueDate": value.isoformat()}
        case "choice":
            return _chosen(item, str(value))
        case _:
            return {"valueString": value}


def _chosen(item: QuestionnaireItem, code: str) -> dict[str, Any]:
    """The option as the Questionnaire wrote it: a Coding stays a Coding."""
    for option in item.answerOption or []:
        coding = option.valueCoding
        if coding is not None and coding.code == code:
            return {"valueCoding": coding.model_dump(mode="json", exclude_comments=True)}
    return {"valueString": code}
