"""Submitted form values into typed answers, by the questionnaire's types and enableWhen."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date

from praxis.core.providers.questionnaires import (
    Answers,
    AnswerValue,
    Condition,
    IntakeForm,
    InvalidAnswers,
    Question,
    ReadAnswers,
)

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+([.,]\d+)?|[.,]\d+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FHIR_INTEGER = range(-(2**31), 2**31)  # FHIR's integer is 32-bit
_MISSING = {
    "string": "Enter your answer.",
    "text": "Enter your answer.",
    "integer": "Enter a whole number, for example 3.",
    "decimal": "Enter a number, for example 172.5.",
    "date": "Enter a date, for example 1985-04-23.",
    "boolean": "Choose yes or no.",
    "choice": "Choose one of the options.",
}


class _Unreadable(ValueError):
    """The sentence that tells the person how to correct one answer."""


def read_answers(form: IntakeForm, submitted: Mapping[str, str]) -> ReadAnswers:
    """Questions in order; a disabled one is neither required nor kept."""
    answers: Answers = {}
    enabled: set[str] = set()
    problems: dict[str, str] = {}
    for question in form.questions:
        if not is_enabled(form, question, answers):
            continue
        enabled.add(question.link_id)
        try:
            value = read_value(question, submitted.get(question.link_id, ""))
        except _Unreadable as exc:
            problems[question.link_id] = str(exc)
            continue
        if value is not None:
            answers[question.link_id] = value
        elif question.required:
            problems[question.link_id] = _MISSING[question.type]
    if problems:
        raise InvalidAnswers(problems)
    return ReadAnswers(answers=answers, enabled=frozenset(enabled))


def is_enabled(form: IntakeForm, question: Question, answers: Answers) -> bool:
    """FHIR enableWhen: the answer of a question that does not apply counts as absent."""
    return _enabled(question, answers, {q.link_id: q for q in form.questions}, frozenset())


def _enabled(
    question: Question,
    answers: Answers,
    by_id: Mapping[str, Question],
    visiting: frozenset[str],
) -> bool:
    if not question.enable_when:
        return True
    visiting = visiting | {question.link_id}  # a hand-made form may loop: do not follow it
    holds = (
        _holds(condition, _answer(condition.question, answers, by_id, visiting))
        for condition in question.enable_when
    )
    return all(holds) if question.enable_behavior == "all" else any(holds)


def _answer(
    link_id: str, answers: Answers, by_id: Mapping[str, Question], visiting: frozenset[str]
) -> AnswerValue | None:
    depended_on = by_id.get(link_id)
    if depended_on is None or link_id in visiting:
        return None
    if not _enabled(depended_on, answers, by_id, visiting):
        return None
    return answers.get(link_id)


def _holds(condition: Condition, value: AnswerValue | None) -> bool:
    """The FHIR operator's definition, for a question that takes one answer."""
    expected = condition.answer
    if condition.operator == "exists":
        return (value is not None) is bool(expected)
    if value is None:
        return condition.operator == "!="  # "true if no answer is equal"
    if condition.operator == "=":
        return _same(value, expected)
    if condition.operator == "!=":
        return not _same(value, expected)
    if not _comparable(value, expected):
        return False
    left, right = _position(value), _position(expected)
    match condition.operator:
        case ">":
            return left > right
        case "<":
            return left < right
        case ">=":
            return left >= right
        case _:
            return left <= right


def _same(value: AnswerValue, expected: AnswerValue) -> bool:
    return (type(value) is type(expected) or _comparable(value, expected)) and value == expected


def _comparable(value: AnswerValue, expected: AnswerValue) -> bool:
    """Numbers with numbers (True is no number here), dates with dates."""

    def number(x: AnswerValue) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool)

    return (number(value) and number(expected)) or (
        isinstance(value, date) and isinstance(expected, date)
    )


def _position(value: AnswerValue) -> float:
    return float(value.toordinal()) if isinstance(value, date) else float(value)


def read_value(question: Question, raw: str) -> AnswerValue | None:
    """The typed answer, None when left empty; _Unreadable says what to correct."""
    text = raw.strip()
    if not text:
        return None
    match question.type:
        case "integer":
            return _integer(text)
        case "decimal":
            return _decimal(text)
        case "date":
            return _date(text)
        case "boolean":
            return _boolean(text)
        case "choice":
            return _choice(question, text)
        case _:
            return _text(question, raw)


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise _Unreadable("Enter a whole number, for example 3, without a decimal point or units.")
    value = int(text)
    if value not in _FHIR_INTEGER:
        raise _Unreadable("Enter a smaller number.")
    return value


def _decimal(text: str) -> float:
    if not _DECIMAL.fullmatch(text):
        raise _Unreadable("Enter a number, for example 172.5, without units.")
    value = float(text.replace(",", "."))
    if not math.isfinite(value) or abs(value) >= 1e15:
        raise _Unreadable("Enter a smaller number.")
    return value


def _date(text: str) -> date:
    if not _DATE.fullmatch(text):
        raise _Unreadable("Enter the date as year-month-day, for example 1985-04-23.")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _Unreadable("Enter a real date, for example 1985-04-23.") from None


def _boolean(text: str) -> bool:
    answer = text.lower()
    if answer not in ("true", "false"):
        raise _Unreadable("Choose yes or no.")
    return answer == "true"


def _choice(question: Question, text: str) -> str:
    if text not in {option.code for option in question.options}:
        raise _Unreadable("Choose one of the options.")
    return text


def _text(question: Question, raw: str) -> str:
    value = raw.replace("\r\n", "\n").strip()
    if question.type == "string":
        value = " ".join(value.split())  # one line
    if question.max_length is not None and len(value) > question.max_length:
        raise _Unreadable(
            f"Keep your answer to {question.max_length} characters or fewer (it has {len(value)})."
        )
    return value
