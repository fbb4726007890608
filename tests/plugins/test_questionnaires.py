"""plugins.questionnaires: FHIR R4 Questionnaire in, answers checked, QuestionnaireResponse out."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

import praxis.plugins.questionnaires as questionnaires
from praxis.core.hookspecs import NoSettings
from praxis.core.providers.common import ProviderContext
from praxis.core.providers.questionnaires import (
    SHARING_CONSENT,
    Answers,
    Condition,
    IntakeForm,
    InvalidAnswers,
    InvalidQuestionnaire,
    Option,
    Question,
    QuestionnaireProvider,
)
from praxis.plugins.questionnaires import IntakeQuestionnaires

ACTIVITY = "https://alpha.example/fhir/CodeSystem/activity"
AUTHORED = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)

# A tenant's own questionnaire: every supported type, groups within groups, a display item,
# choice by Coding and by string, enableWhen of each operator family, enableBehavior any/all.
TENANT: dict[str, Any] = {
    "resourceType": "Questionnaire",
    "url": "https://alpha.praxis.example/fhir/Questionnaire/physio-intake",
    "version": "3",
    "title": "Physiotherapy intake",
    "status": "active",
    "item": [
        {"linkId": "intro", "type": "display", "text": "A few questions before we meet."},
        {"linkId": "called", "type": "string", "text": "What should we call you?", "maxLength": 20},
        {"linkId": "born", "type": "date", "text": "Your date of birth", "required": True},
        {"linkId": "pain", "type": "integer", "text": "Pain today, 0 to 10", "required": True},
        {"linkId": "sleep", "type": "decimal", "text": "Hours of sleep a night"},
        {
            "linkId": "activity",
            "type": "choice",
            "text": "How active are you?",
            "required": True,
            "answerOption": [
                {"valueCoding": {"system": ACTIVITY, "code": "low", "display": "Hardly at all"}},
                {"valueCoding": {"system": ACTIVITY, "code": "high", "display": "Most days"}},
                {"valueString": "varies"},
            ],
        },
        {
            "linkId": "injury",
            "type": "group",
            "text": "About the injury",
            "enableWhen": [{"question": "pain", "operator": ">=", "answerInteger": 4}],
            "item": [
                {
                    "linkId": "injured-on",
                    "type": "date",
                    "text": "When did it happen?",
                    "required": True,
                    "enableWhen": [
                        {"question": "born", "operator": ">", "answerDate": "1900-01-01"}
                    ],
                },
                {"linkId": "story", "type": "text", "text": "What happened?", "required": True},
                {
                    "linkId": "treatment",
                    "type": "group",
                    "item": [{"linkId": "treated", "type": "boolean", "text": "Treated yet?"}],
                },
            ],
        },
        {
            "linkId": "sleep-advice",
            "type": "boolean",
            "text": "Would you like advice on sleep?",
            "enableBehavior": "any",
            "enableWhen": [
                {"question": "sleep", "operator": "<", "answerDecimal": 6},
                {
                    "question": "activity",
                    "operator": "=",
                    "answerCoding": {"system": ACTIVITY, "code": "low"},
                },
            ],
        },
        {
            "linkId": "varies-why",
            "type": "string",
            "text": "What makes it vary?",
            "required": True,
            "enableBehavior": "all",
            "enableWhen": [
                {"question": "activity", "operator": "=", "answerString": "varies"},
                {"question": "called", "operator": "exists", "answerBoolean": True},
                {"question": "pain", "operator": "!=", "answerInteger": 0},
                {"question": "born", "operator": "<=", "answerDate": "2010-01-01"},
            ],
        },
        {
            "linkId": SHARING_CONSENT,
            "type": "boolean",
            "text": "I agree that my answers are shared with the Professional I booked",
            "required": True,
        },
    ],
}

GOOD_TENANT_ANSWERS = {
    "called": "  Sam  ",
    "born": "1984-11-02",
    "pain": "6",
    "sleep": "5,5",
    "activity": "low",
    "injured-on": "2025-02-20",
    "story": "Fell off my bike.\r\nLeft knee.",
    "treated": "false",
    "sleep-advice": "true",
    "varies-why": "ignored: activity is not 'varies'",
    SHARING_CONSENT: "true",
}


def no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError("answers never leave the platform: no HTTP call is expected")


@pytest.fixture(scope="module")
def intake() -> IntakeQuestionnaires:
    context = ProviderContext(
        settings=NoSettings(),
        http=httpx.AsyncClient(transport=httpx.MockTransport(no_network)),
        tenant_slug="alpha",
        tenant_name="Alpha Physio",
        public_url="https://alpha.praxis.example",
        webhook_url="https://alpha.praxis.example/-/plugins/questionnaires/webhook/",
    )
    return IntakeQuestionnaires(context)


def tenant(change: Callable[[dict[str, Any]], object] | None = None) -> dict[str, Any]:
    resource = copy.deepcopy(TENANT)
    if change is not None:
        change(resource)
    return resource


def item(resource: dict[str, Any], link_id: str) -> dict[str, Any]:
    def find(items: list[dict[str, Any]]) -> dict[str, Any] | None:
        for found in items:
            if found["linkId"] == link_id:
                return found
            inner = find(found.get("item", []))
            if inner is not None:
                return inner
        return None

    found = find(resource["item"])
    assert found is not None, link_id
    return found


def problems(intake: IntakeQuestionnaires, resource: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidQuestionnaire) as caught:
        intake.read_questionnaire(resource)
    return caught.value.problems


def answer_errors(
    intake: IntakeQuestionnaires, form: IntakeForm, submitted: dict[str, str]
) -> dict[str, str]:
    with pytest.raises(InvalidAnswers) as caught:
        intake.read_answers(form, submitted)
    return caught.value.fields


# --- the plugin ------------------------------------------------------------------------------


def test_the_plugin_registers_a_provider_that_keeps_answers_on_the_platform(
    intake: IntakeQuestionnaires,
) -> None:
    manifest = questionnaires.praxis_manifest()
    assert (manifest.name, manifest.kind, manifest.processor) == (
        "questionnaires",
        "questionnaires",
        None,
    )
    assert questionnaires.praxis_register_providers() is IntakeQuestionnaires
    assert isinstance(intake, QuestionnaireProvider)


# --- the default questionnaire ---------------------------------------------------------------


def test_the_default_questionnaire_is_valid_fhir_and_asks_the_six_questions(
    intake: IntakeQuestionnaires,
) -> None:
    resource = intake.default_questionnaire()
    fhir = Questionnaire.model_validate(resource)
    assert (fhir.status, fhir.title) == ("active", "Before your first consultation")
    assert fhir.url and fhir.version

    form = intake.read_questionnaire(resource)

    assert (form.title, form.url, form.version) == (
        "Before your first consultation",
        fhir.url,
        fhir.version,
    )
    assert [(q.link_id, q.type, q.required) for q in form.questions] == [
        ("height", "decimal", True),
        ("weight", "decimal", True),
        ("concerns", "text", True),
        ("takes-medicines", "boolean", True),
        ("medicines", "text", True),
        (SHARING_CONSENT, "boolean", True),
    ]
    medicines = form.questions[4]
    assert medicines.enable_when == (Condition("takes-medicines", "=", True),)
    consent = form.sharing_consent
    assert consent is not None and consent.type == "boolean"
    assert "shared with the Professional I booked" in consent.text


def test_the_default_is_a_fresh_copy_each_time(intake: IntakeQuestionnaires) -> None:
    first = intake.default_questionnaire()
    first["item"].clear()
    assert len(intake.default_questionnaire()["item"]) == 6


# --- a tenant's questionnaire ----------------------------------------------------------------


def test_a_tenant_questionnaire_is_flattened_with_its_types_options_and_conditions(
    intake: IntakeQuestionnaires,
) -> None:
    form = intake.read_questionnaire(tenant())

    assert (form.title, form.version, form.url) == ("Physiotherapy intake", "3", TENANT["url"])
    assert [(q.link_id, q.type) for q in form.questions] == [
        ("called", "string"),
        ("born", "date"),
        ("pain", "integer"),
        ("sleep", "decimal"),
        ("activity", "choice"),
        ("injured-on", "date"),
        ("story", "text"),
        ("treated", "boolean"),
        ("sleep-advice", "boolean"),
        ("varies-why", "string"),
        (SHARING_CONSENT, "boolean"),
    ]  # the display item is left out; groups give way to their questions, in order
    by_id = {q.link_id: q for q in form.questions}
    assert by_id["called"].max_length == 20
    assert by_id["activity"].options == (
        Option("low", "Hardly at all"),
        Option("high", "Most days"),
        Option("varies", "varies"),
    )
    in_group = Condition("pain", ">=", 4)
    assert by_id["injured-on"].enable_when == (
        in_group,
        Condition("born", ">", date(1900, 1, 1)),
    )
    assert by_id["story"].enable_when == (in_group,)
    assert by_id["treated"].enable_when == (in_group,)  # through the nested group too
    assert by_id["sleep-advice"].enable_behavior == "any"
    assert by_id["sleep-advice"].enable_when == (
        Condition("sleep", "<", 6.0),
        Condition("activity", "=", "low"),
    )
    assert by_id["varies-why"].enable_behavior == "all"
    assert [c.operator for c in by_id["varies-why"].enable_when] == ["=", "exists", "!=", "<="]
    assert by_id["varies-why"].enable_when[0].answer == "varies"


def test_fhir_validation_errors_name_the_item_and_the_path(intake: IntakeQuestionnaires) -> None:
    def break_it(resource: dict[str, Any]) -> None:
        item(resource, "treated")["required"] = "maybe"
        item(resource, "pain")["colour"] = "red"

    found = problems(intake, tenant(break_it))

    assert len(found) == 2
    assert any(p.startswith('item "treated" (item[6].item[2].item[0].required): ') for p in found)
    assert 'item "pain" (item[3].colour): is not a field FHIR knows here' in "\n".join(found)
    without_status = tenant(lambda r: r.pop("status"))
    assert problems(intake, without_status) == ["status: Value for the field 'status' is required."]
    assert problems(intake, tenant(lambda r: r.update(status="live"))) == [
        "status 'live' is not a FHIR status (use draft, active, retired or unknown)"
    ]


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "Patient"},
        {"status": "active"},
        ["not", "an", "object"],
        {**TENANT, "contained": [{"resourceType": "Unheard"}]},
    ],
)
def test_only_a_questionnaire_is_read(intake: IntakeQuestionnaires, resource: Any) -> None:
    [problem] = problems(intake, resource)
    assert any(words in problem for words in ("resourceType", "JSON object", "resource types"))


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("attachment", "files cannot be uploaded"),
        ("reference", "use string"),
        ("quantity", "use decimal"),
        ("url", "use string"),
        ("time", "use string"),
        ("dateTime", "use date"),
        ("open-choice", "use choice"),
        ("telepathy", "not a FHIR R4 item type"),
    ],
)
def test_item_types_the_platform_cannot_honour_are_refused(
    intake: IntakeQuestionnaires, kind: str, hint: str
) -> None:
    found = problems(intake, tenant(lambda r: item(r, "story").update(type=kind)))
    assert len(found) == 1
    assert found[0].startswith(f'item "story": type "{kind}" ')
    assert hint in found[0]


def add_condition(link_id: str, **rule: Any) -> Callable[[dict[str, Any]], None]:
    def change(resource: dict[str, Any]) -> None:
        item(resource, link_id)["enableWhen"] = [rule]
        item(resource, link_id).pop("enableBehavior", None)

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda r: item(r, "story").update(linkId="pain"),
            'item "pain": this linkId is used by an earlier item already',
        ),
        (
            add_condition("story", question="nowhere", operator="exists", answerBoolean=True),
            'item "story" enableWhen[0]: no item has the linkId "nowhere"',
        ),
        (
            add_condition("born", question="pain", operator="=", answerInteger=3),
            'item "born" enableWhen[0]: "pain" does not come before it',
        ),
        (
            add_condition("story", question="intro", operator="exists", answerBoolean=True),
            'item "story" enableWhen[0]: "intro" is a display item and has no answer',
        ),
        (
            add_condition("story", question="treated", operator=">", answerBoolean=True),
            'item "story" enableWhen[0]: "treated" does not come before it',
        ),
        (
            add_condition("sleep-advice", question="treated", operator=">", answerBoolean=True),
            '"treated" is a boolean question, so operator ">" cannot compare it',
        ),
        (
            add_condition("story", question="sleep", operator="=", answerString="six"),
            '"sleep" is a decimal question, so the answer must be answerDecimal or '
            "answerInteger, not answerString",
        ),
        (
            add_condition("story", question="born", operator="=", answerDateTime="2020-01-01"),
            "the answer must be answerDate, not answerDateTime",
        ),
        (
            add_condition("story", question="called", operator="exists", answerString="yes"),
            'operator "exists" needs answerBoolean',
        ),
        (
            add_condition("story", question="pain", operator="~", answerInteger=1),
            'operator "~" is not a FHIR operator',
        ),
        (
            add_condition(
                "story", question="activity", operator="=", answerCoding={"code": "none"}
            ),
            '"none" is not one of the options of "activity"',
        ),
        (
            lambda r: item(r, "varies-why").pop("enableBehavior"),
            'item "varies-why": enableBehavior ("all" or "any") is required with more than '
            "one enableWhen",
        ),
        (
            lambda r: item(r, "activity").pop("answerOption"),
            'item "activity": a choice question needs answerOption',
        ),
        (
            lambda r: item(r, "activity").update(answerOption=[{"valueInteger": 1}]),
            "each answerOption needs a valueCoding with a code, or a valueString",
        ),
        (
            lambda r: item(r, "activity").update(answerValueSet="http://x.example/vs"),
            "answerValueSet is not supported; list the options in answerOption",
        ),
        (
            lambda r: item(r, SHARING_CONSENT).update(type="string"),
            f'item "{SHARING_CONSENT}": the consent to share with the Professional must be a '
            "boolean question",
        ),
        (
            lambda r: item(r, "story").update(repeats=True),
            'item "story": repeats is not supported',
        ),
        (
            lambda r: item(r, "treatment").update(item=[]),
            'item "treatment": a group needs items inside it',
        ),
        (
            lambda r: item(r, "injury").update(required=True),
            'item "injury": a group cannot be required',
        ),
        (lambda r: item(r, "story").pop("text"), 'item "story": a question needs text to show'),
        (
            lambda r: item(r, "called").update(
                item=[{"linkId": "nickname", "type": "string", "text": "Nickname"}]
            ),
            'item "called": questions cannot contain items; put them in a group instead',
        ),
        (
            lambda r: item(r, "intro").update(
                item=[{"linkId": "more", "type": "display", "text": "More"}]
            ),
            'item "intro": a display item cannot contain other items',
        ),
        (
            lambda r: item(r, "sleep").update(maxLength=4),
            'item "sleep": maxLength only applies to string and text',
        ),
        (
            lambda r: item(r, "injury").update(
                enableBehavior="any",
                enableWhen=[
                    {"question": "pain", "operator": ">=", "answerInteger": 4},
                    {"question": "sleep", "operator": "exists", "answerBoolean": True},
                ],
            ),
            'item "injured-on": it and its group both have enableWhen, with enableBehavior "any"',
        ),
    ],
)
def test_what_the_platform_cannot_honour_is_refused_with_a_clear_line(
    intake: IntakeQuestionnaires, change: Callable[[dict[str, Any]], object], expected: str
) -> None:
    found = problems(intake, tenant(change))
    assert len(found) == 1, found
    assert expected in found[0]


def test_every_problem_is_reported_at_once(intake: IntakeQuestionnaires) -> None:
    def break_it(resource: dict[str, Any]) -> None:
        item(resource, "story")["type"] = "attachment"
        item(resource, "activity").pop("answerOption")
        item(resource, SHARING_CONSENT)["type"] = "integer"

    assert [p.split(":")[0] for p in problems(intake, tenant(break_it))] == [
        'item "activity"',
        'item "story"',
        f'item "{SHARING_CONSENT}"',
    ]


# --- reading answers -------------------------------------------------------------------------


def question(kind: Any, **values: Any) -> Question:
    return Question(link_id="q", text="Question", type=kind, **values)


def form_of(*questions: Question) -> IntakeForm:
    return IntakeForm(title="Test", version="1", questions=questions)


@pytest.mark.parametrize(
    ("kind", "typed", "expected"),
    [
        ("string", "  Sam   Smith \n", "Sam Smith"),
        ("text", " line one\r\nline two ", "line one\nline two"),
        ("integer", " 42 ", 42),
        ("integer", "-3", -3),
        ("decimal", "172.5", 172.5),
        ("decimal", "172,5", 172.5),
        ("decimal", "70", 70.0),
        ("date", "1985-04-23", date(1985, 4, 23)),
        ("boolean", "true", True),
        ("boolean", "false", False),
        ("choice", "high", "high"),
    ],
)
def test_answers_are_converted_to_their_question_type(
    intake: IntakeQuestionnaires, kind: str, typed: str, expected: object
) -> None:
    asked = question(kind, options=(Option("low", "Low"), Option("high", "High")))
    read = intake.read_answers(form_of(asked), {"q": typed})
    assert read.answers == {"q": expected}
    assert type(read.answers["q"]) is type(expected)
    assert read.enabled == frozenset({"q"})


@pytest.mark.parametrize(
    ("kind", "typed", "message"),
    [
        (
            "integer",
            "4.5",
            "Enter a whole number, for example 3, without a decimal point or units.",
        ),
        (
            "integer",
            "three",
            "Enter a whole number, for example 3, without a decimal point or units.",
        ),
        ("integer", "99999999999", "Enter a smaller number."),
        ("decimal", "172 cm", "Enter a number, for example 172.5, without units."),
        ("decimal", "1.234,5", "Enter a number, for example 172.5, without units."),
        ("decimal", "nan", "Enter a number, for example 172.5, without units."),
        ("decimal", "9" * 400, "Enter a smaller number."),
        ("date", "23/04/1985", "Enter the date as year-month-day, for example 1985-04-23."),
        ("date", "2023-02-30", "Enter a real date, for example 1985-04-23."),
        ("boolean", "yes", "Choose yes or no."),
        ("choice", "medium", "Choose one of the options."),
        ("string", "x" * 11, "Keep your answer to 10 characters or fewer (it has 11)."),
    ],
)
def test_unreadable_answers_get_a_sentence_saying_what_to_correct(
    intake: IntakeQuestionnaires, kind: str, typed: str, message: str
) -> None:
    asked = question(kind, options=(Option("low", "Low"),), max_length=10)
    assert answer_errors(intake, form_of(asked), {"q": typed}) == {"q": message}


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("string", "Enter your answer."),
        ("integer", "Enter a whole number, for example 3."),
        ("decimal", "Enter a number, for example 172.5."),
        ("date", "Enter a date, for example 1985-04-23."),
        ("boolean", "Choose yes or no."),
        ("choice", "Choose one of the options."),
    ],
)
def test_a_required_question_left_empty_says_what_to_enter(
    intake: IntakeQuestionnaires, kind: str, message: str
) -> None:
    asked = question(kind, required=True, options=(Option("low", "Low"),))
    assert answer_errors(intake, form_of(asked), {"q": "   "}) == {"q": message}
    assert answer_errors(intake, form_of(asked), {}) == {"q": message}
    optional = question(kind, options=(Option("low", "Low"),))
    assert intake.read_answers(form_of(optional), {}).answers == {}


@pytest.mark.promise("P03")
def test_answers_are_checked_against_the_tenants_intake_questionnaire(
    intake: IntakeQuestionnaires,
) -> None:
    resource = intake.default_questionnaire()
    resource["item"].insert(
        3,
        {
            "linkId": "goal",
            "type": "string",
            "text": "Your goal for the sessions",
            "required": True,
        },
    )  # what the tenant adds is required too
    form = intake.read_questionnaire(resource)

    assert set(answer_errors(intake, form, {})) == {
        "height",
        "weight",
        "concerns",
        "goal",
        "takes-medicines",
        SHARING_CONSENT,
    }  # "medicines" only applies once the consumer says they take some
    assert answer_errors(
        intake,
        form,
        {
            "height": "tall",
            "weight": "70 kg",
            "concerns": "Back pain",
            "goal": "Run again",
            "takes-medicines": "true",
            SHARING_CONSENT: "true",
        },
    ) == {
        "height": "Enter a number, for example 172.5, without units.",
        "weight": "Enter a number, for example 172.5, without units.",
        "medicines": "Enter your answer.",
    }

    read = intake.read_answers(
        form,
        {
            "height": "172,5",
            "weight": "68.2",
            "concerns": "  Back pain when running  ",
            "goal": "Run again",
            "takes-medicines": "false",
            "medicines": "left over from an earlier answer",
            SHARING_CONSENT: "true",
            "csrf_token": "not a question",
        },
    )
    assert read.answers == {
        "height": 172.5,
        "weight": 68.2,
        "concerns": "Back pain when running",
        "goal": "Run again",
        "takes-medicines": False,
        SHARING_CONSENT: True,
    }
    assert "medicines" not in read.enabled


def test_enable_when_drops_or_requires_answers_through_groups(
    intake: IntakeQuestionnaires,
) -> None:
    form = intake.read_questionnaire(tenant())
    calm = {**GOOD_TENANT_ANSWERS, "pain": "2", "activity": "high", "sleep": "8"}

    read = intake.read_answers(form, calm)

    for dropped in ("injured-on", "story", "treated", "sleep-advice", "varies-why"):
        assert dropped not in read.answers and dropped not in read.enabled
    assert read.answers["pain"] == 2

    in_pain = {**calm, "pain": "8"}
    del in_pain["story"]
    assert answer_errors(intake, form, in_pain) == {"story": "Enter your answer."}

    varies = {**calm, "activity": "varies", "varies-why": ""}
    assert answer_errors(intake, form, varies) == {"varies-why": "Enter your answer."}
    del varies["called"]  # "exists" no longer holds: the question no longer applies
    assert "varies-why" not in intake.read_answers(form, varies).enabled


def test_the_tenant_answers_read_in_full(intake: IntakeQuestionnaires) -> None:
    form = intake.read_questionnaire(tenant())
    read = intake.read_answers(form, GOOD_TENANT_ANSWERS)
    assert read.answers == {
        "called": "Sam",
        "born": date(1984, 11, 2),
        "pain": 6,
        "sleep": 5.5,
        "activity": "low",
        "injured-on": date(2025, 2, 20),
        "story": "Fell off my bike.\nLeft knee.",
        "treated": False,
        "sleep-advice": True,
        SHARING_CONSENT: True,
    }
    assert "varies-why" not in read.enabled


# --- enableWhen ------------------------------------------------------------------------------


def gated(*conditions: Condition, behavior: Any = "all") -> tuple[IntakeForm, Question]:
    asked = Question("later", "Later", "string", enable_when=conditions, enable_behavior=behavior)
    earlier = (
        Question("n", "Number", "decimal"),
        Question("d", "Date", "date"),
        Question("b", "Yes or no", "boolean"),
        Question("c", "Choice", "choice", options=(Option("x", "X"), Option("y", "Y"))),
    )
    return form_of(*earlier, asked), asked


@pytest.mark.parametrize(
    ("condition", "answers", "expected"),
    [
        (Condition("n", "exists", True), {"n": 1.0}, True),
        (Condition("n", "exists", True), {}, False),
        (Condition("n", "exists", False), {}, True),
        (Condition("b", "=", True), {"b": True}, True),
        (Condition("b", "=", True), {"b": False}, False),
        (Condition("b", "=", True), {}, False),
        (Condition("b", "!=", True), {"b": False}, True),
        (Condition("b", "!=", True), {}, True),  # FHIR: true if no answer equals it
        (Condition("c", "=", "x"), {"c": "x"}, True),
        (Condition("c", "!=", "x"), {"c": "x"}, False),
        (Condition("n", ">", 4), {"n": 4.5}, True),
        (Condition("n", ">", 4), {"n": 4.0}, False),
        (Condition("n", "<", 4), {"n": 3.9}, True),
        (Condition("n", ">=", 4), {"n": 4.0}, True),
        (Condition("n", "<=", 4), {"n": 4.1}, False),
        (Condition("n", ">", 4), {}, False),
        (Condition("d", "<", date(2000, 1, 1)), {"d": date(1999, 12, 31)}, True),
        (Condition("d", ">=", date(2000, 1, 1)), {"d": date(1999, 12, 31)}, False),
        (Condition("b", "=", 1), {"b": True}, False),  # True is not the number 1
    ],
)
def test_each_operator_follows_fhir(
    intake: IntakeQuestionnaires, condition: Condition, answers: Answers, expected: bool
) -> None:
    form, asked = gated(condition)
    assert intake.is_enabled(form, asked, answers) is expected


def test_enable_behavior_all_and_any(intake: IntakeQuestionnaires) -> None:
    conditions = (Condition("b", "=", True), Condition("n", ">", 10))
    every, asked_all = gated(*conditions, behavior="all")
    either, asked_any = gated(*conditions, behavior="any")
    half: Answers = {"b": True, "n": 5.0}
    assert intake.is_enabled(every, asked_all, half) is False
    assert intake.is_enabled(either, asked_any, half) is True
    assert intake.is_enabled(every, asked_all, {"b": True, "n": 11.0}) is True
    assert intake.is_enabled(either, asked_any, {"b": False}) is False


def test_an_answer_to_a_question_that_does_not_apply_counts_as_absent(
    intake: IntakeQuestionnaires,
) -> None:
    first = Question("first", "First", "boolean")
    second = Question("second", "Second", "boolean", enable_when=(Condition("first", "=", True),))
    third = Question("third", "Third", "string", enable_when=(Condition("second", "=", True),))
    form = form_of(first, second, third)
    assert intake.is_enabled(form, third, {"first": True, "second": True}) is True
    assert intake.is_enabled(form, third, {"first": False, "second": True}) is False


def test_a_hand_made_form_that_loops_does_not_hang(intake: IntakeQuestionnaires) -> None:
    one = Question("one", "One", "boolean", enable_when=(Condition("two", "exists", False),))
    two = Question("two", "Two", "boolean", enable_when=(Condition("one", "exists", False),))
    assert intake.is_enabled(form_of(one, two), one, {}) is True


# --- the QuestionnaireResponse ---------------------------------------------------------------


def test_the_response_is_valid_fhir_with_typed_values_nested_as_the_questionnaire(
    intake: IntakeQuestionnaires,
) -> None:
    resource = tenant()
    read = intake.read_answers(intake.read_questionnaire(resource), GOOD_TENANT_ANSWERS)

    body = intake.to_response(
        resource, read.answers, subject_reference="Patient/p-17", authored=AUTHORED
    )

    exported = json.dumps(body)  # JSON-ready as it is
    response = QuestionnaireResponse.model_validate_json(exported)
    assert response.status == "completed"
    assert response.questionnaire == f"{TENANT['url']}|3"
    assert response.subject is not None and response.subject.reference == "Patient/p-17"
    assert body["authored"] == "2025-03-04T09:30:00Z"
    assert [i["linkId"] for i in body["item"]] == [
        "called",
        "born",
        "pain",
        "sleep",
        "activity",
        "injury",
        "sleep-advice",
        SHARING_CONSENT,
    ]
    values = {i["linkId"]: i["answer"][0] for i in body["item"] if "answer" in i}
    assert values["called"] == {"valueString": "Sam"}
    assert values["born"] == {"valueDate": "1984-11-02"}
    assert values["pain"] == {"valueInteger": 6}
    assert values["sleep"] == {"valueDecimal": 5.5}
    assert values["activity"] == {
        "valueCoding": {"system": ACTIVITY, "code": "low", "display": "Hardly at all"}
    }
    assert values["sleep-advice"] == {"valueBoolean": True}
    [injury] = [i for i in body["item"] if i["linkId"] == "injury"]
    assert injury["text"] == "About the injury"
    assert [i["linkId"] for i in injury["item"]] == ["injured-on", "story", "treatment"]
    assert injury["item"][1]["answer"] == [{"valueString": "Fell off my bike.\nLeft knee."}]
    assert injury["item"][2]["item"] == [
        {"linkId": "treated", "text": "Treated yet?", "answer": [{"valueBoolean": False}]}
    ]


def test_a_choice_from_a_string_option_is_answered_as_a_string(
    intake: IntakeQuestionnaires,
) -> None:
    resource = tenant()
    submitted = {**GOOD_TENANT_ANSWERS, "activity": "varies", "pain": "1", "varies-why": "work"}
    read = intake.read_answers(intake.read_questionnaire(resource), submitted)
    body = intake.to_response(
        resource, read.answers, subject_reference="Patient/p-17", authored=AUTHORED
    )
    values = {i["linkId"]: i["answer"] for i in body["item"] if "answer" in i}
    assert values["activity"] == [{"valueString": "varies"}]
    assert values["varies-why"] == [{"valueString": "work"}]
    assert "injury" not in {i["linkId"] for i in body["item"]}  # nothing in it applies


def test_the_response_leaves_out_answers_to_questions_that_do_not_apply(
    intake: IntakeQuestionnaires,
) -> None:
    resource = intake.default_questionnaire()
    answers: Answers = {
        "height": 180,
        "weight": 80.5,
        "concerns": "Sleep",
        "takes-medicines": False,
        "medicines": "stale",
        SHARING_CONSENT: True,
    }
    body = intake.to_response(resource, answers, subject_reference="Patient/1", authored=AUTHORED)
    assert "medicines" not in [i["linkId"] for i in body["item"]]
    assert body["item"][0]["answer"] == [{"valueDecimal": 180}]


def test_the_response_refuses_answers_read_answers_would_never_give(
    intake: IntakeQuestionnaires,
) -> None:
    resource = tenant()
    wrong: Answers = {"pain": "six", "born": 1984, "activity": "medium", "ghost": True}
    with pytest.raises(InvalidAnswers) as caught:
        intake.to_response(resource, wrong, subject_reference="Patient/1", authored=AUTHORED)
    assert set(caught.value.fields) == {"pain", "born", "activity", "ghost"}
    with pytest.raises(ValueError, match="timezone"):
        intake.to_response(
            resource, {}, subject_reference="Patient/1", authored=datetime(2025, 1, 1)
        )
    with pytest.raises(InvalidQuestionnaire):
        intake.to_response(
            {"resourceType": "Questionnaire"},
            {},
            subject_reference="Patient/1",
            authored=AUTHORED,
        )
