"""FHIR validation with fhir.resources (R4B, whose Questionnaire is R4's), one line per problem."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from praxis.core.providers.questionnaires import InvalidQuestionnaire

# pydantic's wording where it is cryptic for someone editing JSON by hand
_PLAIN = {
    "string_pattern_mismatch": "must not be empty, nor start or end with a space",
    "extra_forbidden": "is not a field FHIR knows here (check its spelling)",
}


def parse_questionnaire(resource: Mapping[str, Any]) -> Questionnaire:
    """The validated model; InvalidQuestionnaire naming each problem's item and path."""
    if not isinstance(resource, Mapping):
        raise InvalidQuestionnaire(["The questionnaire must be a JSON object."])
    kind = resource.get("resourceType")
    if kind != "Questionnaire":
        raise InvalidQuestionnaire([f'resourceType must be "Questionnaire", not {kind!r}.'])
    try:
        return Questionnaire.model_validate(dict(resource))
    except ValidationError as exc:
        raise InvalidQuestionnaire(
            [problem(error, resource) for error in exc.errors(include_url=False)]
        ) from None
    except (KeyError, TypeError, ValueError):  # fhir.resources on an unknown contained type
        raise InvalidQuestionnaire(
            ["This is not valid FHIR R4: check the resource types of contained resources."]
        ) from None


def checked_response(body: dict[str, Any]) -> dict[str, Any]:
    """A QuestionnaireResponse as FHIR JSON, once fhir.resources accepts it."""
    model = QuestionnaireResponse.model_validate(body)
    return model.model_dump(mode="json", exclude_comments=True)


def problem(error: Mapping[str, Any], resource: Mapping[str, Any]) -> str:
    """One pydantic error as a line someone editing the JSON by hand can act on."""
    message = str(_PLAIN.get(error["type"], error["msg"])).removeprefix("Value error, ")
    return f"{where(error['loc'], resource)}: {message}"


def where(loc: Sequence[int | str], resource: Mapping[str, Any]) -> str:
    """``item "weight" (item[0].item[2].required)``: the innermost item by linkId, and the path."""
    path = ""
    link_id: str | None = None
    node: Any = resource
    previous: int | str = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if previous == "item" and isinstance(node, Mapping):
                found = node.get("linkId")
                link_id = found if isinstance(found, str) and found.strip() else None
        else:
            path += f".{part}" if path else part
            node = node.get(part) if isinstance(node, Mapping) else None
        previous = part
    return f'item "{link_id}" ({path})' if link_id else path or "the questionnaire"
