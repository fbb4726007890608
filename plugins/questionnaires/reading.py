"""A validated FHIR Questionnaire into the ``IntakeForm`` the platform renders and checks.

Groups are flattened (their enableWhen passes to the questions inside), display items are
left out, and whatever the platform cannot honour is refused with one line per problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, cast, get_args

from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.questionnaire import (
    Questionnaire,
    QuestionnaireItem,
    QuestionnaireItemAnswerOption,
    QuestionnaireItemEnableWhen,
)

from praxis.core.providers.questionnaires import (
    SHARING_CONSENT,
    AnswerValue,
    Condition,
    IntakeForm,
    InvalidQuestionnaire,
    Operator,
    Option,
    Question,
    QuestionType,
)
from praxis.plugins.questionnaires.fhir import parse_questionnaire

Behavior = Literal["all", "any"]
Gate = tuple[tuple[Condition, ...], Behavior]  # enableWhen conditions, and how they combine
SUPPORTED: frozenset[str] = frozenset(get_args(QuestionType))
_STATUSES = frozenset({"draft", "active", "retired", "unknown"})
_OPERATORS: frozenset[str] = frozenset(get_args(Operator))
_ORDERED = frozenset({"integer", "decimal", "date"})  # the types > < >= <= can compare
_NOT_SUPPORTED = {  # FHIR R4 item types the platform cannot take, with what to use instead
    "open-choice": "use choice, with a string question for any other answer",
    "dateTime": "use date",
    "time": "use string",
    "url": "use string",
    "quantity": "use decimal, with the unit in the question's text",
    "reference": "use string",
    "attachment": "files cannot be uploaded with a questionnaire",
    "question": "use one of the concrete types",
}
_ANSWER_FIELDS = (
    "answerBoolean",
    "answerDecimal",
    "answerInteger",
    "answerDate",
    "answerDateTime",
    "answerTime",
    "answerString",
    "answerCoding",
    "answerQuantity",
    "answerReference",
)
_ANSWERS_FOR: dict[str, tuple[str, ...]] = {
    "boolean": ("answerBoolean",),
    "integer": ("answerInteger",),
    "decimal": ("answerDecimal", "answerInteger"),
    "date": ("answerDate",),
    "string": ("answerString",),
    "text": ("answerString",),
    "choice": ("answerCoding", "answerString"),
}


def read_questionnaire(resource: Mapping[str, Any]) -> IntakeForm:
    return read_form(parse_questionnaire(resource))


def read_form(questionnaire: Questionnaire) -> IntakeForm:
    """Raise InvalidQuestionnaire with every problem found, not just the first."""
    items = questionnaire.item or []
    everything = all_items(items)
    reader = _Reader(
        order=_order(everything),
        positions={id(item): position for position, item in enumerate(everything)},
    )
    if questionnaire.status not in _STATUSES:
        reader.problems.append(
            f"status {questionnaire.status!r} is not a FHIR status "
            "(use draft, active, retired or unknown)"
        )
    reader.walk(items, gate=((), "all"))
    if not reader.questions and not reader.problems:
        reader.problems.append("The questionnaire has no questions.")
    if reader.problems:
        raise InvalidQuestionnaire(reader.problems)
    return IntakeForm(
        title=questionnaire.title or questionnaire.name or "Questionnaire",
        version=questionnaire.version or "",
        questions=tuple(reader.questions),
        url=questionnaire.url,
    )


def all_items(items: Sequence[QuestionnaireItem]) -> list[QuestionnaireItem]:
    """Every item in document order, groups before their children."""
    found: list[QuestionnaireItem] = []
    for item in items:
        found.append(item)
        found.extend(all_items(item.item or []))
    return found


def link_id(item: QuestionnaireItem) -> str:
    return item.linkId or ""  # FHIR validation has made sure there is one


def _order(everything: Sequence[QuestionnaireItem]) -> dict[str, tuple[int, str]]:
    """linkId -> (position in document order, item type), first occurrence wins."""
    order: dict[str, tuple[int, str]] = {}
    for position, item in enumerate(everything):
        order.setdefault(link_id(item), (position, str(item.type)))
    return order


@dataclass
class _Reader:
    order: dict[str, tuple[int, str]]
    positions: dict[int, int]  # id(item) -> its position in document order
    problems: list[str] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)

    def walk(self, items: Sequence[QuestionnaireItem], *, gate: Gate) -> None:
        for item in items:
            self.read_item(item, gate)

    def read_item(self, item: QuestionnaireItem, inherited: Gate) -> None:
        position = self.positions[id(item)]
        name = f'item "{link_id(item)}"'
        if self.order[link_id(item)][0] != position:
            self.problems.append(f"{name}: this linkId is used by an earlier item already")
        gate = self.combine(name, inherited, self.gate(item, name, position))
        if item.repeats:
            self.problems.append(f"{name}: repeats is not supported; each question has one answer")
        if item.linkId == SHARING_CONSENT and item.type != "boolean":
            self.problems.append(
                f"{name}: the consent to share with the Professional must be a boolean question"
            )
        if item.type == "group":
            self.read_group(item, name, gate)
        elif item.type == "display":
            if item.item:
                self.problems.append(f"{name}: a display item cannot contain other items")
        elif item.type not in SUPPORTED:
            hint = _NOT_SUPPORTED.get(str(item.type))
            self.problems.append(
                f'{name}: type "{item.type}" is not supported ({hint})'
                if hint
                else f'{name}: type "{item.type}" is not a FHIR R4 item type'
            )
        else:
            self.read_question(item, name, gate)

    def read_group(self, item: QuestionnaireItem, name: str, gate: Gate) -> None:
        if not item.item:
            self.problems.append(f"{name}: a group needs items inside it")
        if item.required:
            self.problems.append(
                f"{name}: a group cannot be required; mark the questions inside it as required"
            )
        self.walk(item.item or [], gate=gate)

    def read_question(self, item: QuestionnaireItem, name: str, gate: Gate) -> None:
        problems_before = len(self.problems)
        kind = cast(QuestionType, item.type)  # in SUPPORTED
        if not (item.text or "").strip():
            self.problems.append(f"{name}: a question needs text to show")
        if item.item:
            self.problems.append(
                f"{name}: questions cannot contain items; put them in a group instead"
            )
        options = self.options(item, name, kind)
        if item.maxLength is not None:
            if kind not in ("string", "text"):
                self.problems.append(f"{name}: maxLength only applies to string and text")
            elif item.maxLength < 1:
                self.problems.append(f"{name}: maxLength must be at least 1")
        if len(self.problems) > problems_before:
            return
        conditions, behavior = gate
        self.questions.append(
            Question(
                link_id=link_id(item),
                text=(item.text or "").strip(),
                type=kind,
                required=bool(item.required),
                options=options,
                enable_when=conditions,
                enable_behavior=behavior,
                max_length=item.maxLength,
            )
        )

    def options(self, item: QuestionnaireItem, name: str, kind: QuestionType) -> tuple[Option, ...]:
        if item.answerValueSet:
            self.problems.append(
                f"{name}: answerValueSet is not supported; list the options in answerOption"
            )
        if kind != "choice":
            if item.answerOption:
                self.problems.append(f"{name}: answerOption is only supported on choice questions")
            return ()
        if not item.answerOption:
            if not item.answerValueSet:
                self.problems.append(f"{name}: a choice question needs answerOption")
            return ()
        options = [_option(option) for option in item.answerOption]
        if None in options:
            self.problems.append(
                f"{name}: each answerOption needs a valueCoding with a code, or a valueString"
            )
            return ()
        found = tuple(option for option in options if option is not None)
        if len({option.code for option in found}) < len(found):
            self.problems.append(f"{name}: two answerOptions have the same code")
        return found

    def gate(self, item: QuestionnaireItem, name: str, position: int) -> Gate:
        """The item's own enableWhen, each condition checked against the question it names."""
        rules = item.enableWhen or []
        if len(rules) > 1 and item.enableBehavior is None:
            self.problems.append(
                f'{name}: enableBehavior ("all" or "any") is required with more than one enableWhen'
            )
        if item.enableBehavior not in (None, "all", "any"):
            self.problems.append(f'{name}: enableBehavior must be "all" or "any"')
        behavior: Behavior = "any" if item.enableBehavior == "any" else "all"
        found = [
            self.condition(rule, f"{name} enableWhen[{index}]", position)
            for index, rule in enumerate(rules)
        ]
        return tuple(c for c in found if c is not None), behavior

    def condition(
        self, rule: QuestionnaireItemEnableWhen, name: str, position: int
    ) -> Condition | None:
        target = rule.question
        if target not in self.order:
            self.problems.append(f'{name}: no item has the linkId "{target}"')
            return None
        if self.order[target][0] >= position:
            self.problems.append(
                f'{name}: "{target}" does not come before it; a question can only depend on '
                "an earlier one"
            )
            return None
        target_type = self.order[target][1]
        if target_type in ("group", "display"):
            self.problems.append(f'{name}: "{target}" is a {target_type} item and has no answer')
            return None
        question = next((q for q in self.questions if q.link_id == target), None)
        if question is None:
            return None  # the question it names is refused, and says why
        if rule.operator not in _OPERATORS:
            self.problems.append(f'{name}: operator "{rule.operator}" is not a FHIR operator')
            return None
        answer_field = next(f for f in _ANSWER_FIELDS if getattr(rule, f) is not None)
        if rule.answerCoding is not None and not rule.answerCoding.code:
            self.problems.append(f"{name}: answerCoding needs a code")
            return None
        if rule.operator == "exists":
            if answer_field != "answerBoolean":
                self.problems.append(f'{name}: operator "exists" needs answerBoolean')
                return None
            return Condition(target, "exists", bool(rule.answerBoolean))
        if rule.operator not in ("=", "!=") and question.type not in _ORDERED:
            self.problems.append(
                f'{name}: "{target}" is a {question.type} question, so operator '
                f'"{rule.operator}" cannot compare it; use "=", "!=" or "exists"'
            )
            return None
        allowed = _ANSWERS_FOR[question.type]
        if answer_field not in allowed:
            self.problems.append(
                f'{name}: "{target}" is a {question.type} question, so the answer must be '
                f"{' or '.join(allowed)}, not {answer_field}"
            )
            return None
        value = _answer(getattr(rule, answer_field))
        if question.type == "choice" and value not in {o.code for o in question.options}:
            self.problems.append(f'{name}: "{value}" is not one of the options of "{target}"')
            return None
        return Condition(target, cast(Operator, rule.operator), value)

    def combine(
        self,
        name: str,
        outer: Gate,
        own: Gate,
    ) -> Gate:
        """A question in a group applies when the group's enableWhen and its own both hold."""
        if not outer[0]:
            return own
        if not own[0]:
            return outer
        if _alls(outer) and _alls(own):
            return outer[0] + own[0], "all"
        self.problems.append(
            f'{name}: it and its group both have enableWhen, with enableBehavior "any"; '
            "the platform cannot combine them: move the conditions onto the questions"
        )
        return outer


def _alls(gate: Gate) -> bool:
    return gate[1] == "all" or len(gate[0]) == 1


def _option(option: QuestionnaireItemAnswerOption) -> Option | None:
    coding = option.valueCoding
    if coding is not None and coding.code:
        return Option(code=coding.code, display=coding.display or coding.code)
    if option.valueString:
        return Option(code=option.valueString, display=option.valueString)
    return None


def _answer(value: Coding | Decimal | AnswerValue) -> AnswerValue:
    """An enableWhen answer as the platform's answers hold it: a Coding by its code."""
    if isinstance(value, Coding):
        return str(value.code)
    if isinstance(value, Decimal):
        return float(value)
    return value
