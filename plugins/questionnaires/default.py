"""The intake questionnaire every tenant starts with, as FHIR R4 JSON."""

from __future__ import annotations

import copy
from typing import Any

from praxis.core.providers.questionnaires import SHARING_CONSENT

DEFAULT_URL = "https://praxis.example/fhir/Questionnaire/intake"
DEFAULT_VERSION = "1.0.0"
_LOINC = "http://loinc.org"

_DEFAULT: dict[str, Any] = {
    "resourceType": "Questionnaire",
    "url": DEFAULT_URL,
    "version": DEFAULT_VERSION,
    "name": "IntakeBeforeFirstConsultation",
    "title": "Before your first consultation",
    "status": "active",
    "subjectType": ["Patient"],
    "description": "What the Professional needs to know before meeting you for the first time.",
    "item": [
        {
            "linkId": "height",
            "code": [{"system": _LOINC, "code": "8302-2", "display": "Body height"}],
            "text": "Your height in centimetres",
            "type": "decimal",
            "required": True,
        },
        {
            "linkId": "weight",
            "code": [{"system": _LOINC, "code": "29463-7", "display": "Body weight"}],
            "text": "Your weight in kilograms",
            "type": "decimal",
            "required": True,
        },
        {
            "linkId": "concerns",
            "text": "What are your main concerns? Tell us what you would like help with.",
            "type": "text",
            "required": True,
            "maxLength": 4000,
        },
        {
            "linkId": "takes-medicines",
            "text": "Do you take any medicines?",
            "type": "boolean",
            "required": True,
        },
        {
            "linkId": "medicines",
            "text": "Which medicines do you take, and how much of each?",
            "type": "text",
            "required": True,
            "maxLength": 2000,
            "enableWhen": [{"question": "takes-medicines", "operator": "=", "answerBoolean": True}],
        },
        {
            "linkId": SHARING_CONSENT,
            "text": "I agree that my answers are shared with the Professional I booked",
            "type": "boolean",
            "required": True,
        },
    ],
}


def default_questionnaire() -> dict[str, Any]:
    """A fresh copy: the caller may edit it into the tenant's own."""
    return copy.deepcopy(_DEFAULT)
