"""The clinical parts of a data export as a FHIR R4 Bundle (P31, P34 portability): the
person as a Patient, their Appointments, their intake answers as QuestionnaireResponses and
each consent given or withdrawn as a Consent, so another clinic's system can read them. Built
from the same records as ``data.json``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Praxis's appointment states in FHIR's Appointment.status vocabulary.
APPOINTMENT_STATUS = {
    "awaiting_payment": "pending",
    "booked": "booked",
    "cancelled": "cancelled",
    "released": "cancelled",
}


def patient(record: dict[str, Any]) -> dict[str, Any]:
    lines = [line for line in (record["address_line1"], record["address_line2"]) if line]
    return {
        "resourceType": "Patient",
        "id": record["id"],
        "active": bool(record["is_active"]),
        "name": [{"text": record["full_name"]}],
        "telecom": [
            {"system": "phone", "value": record["phone"], "use": "mobile"},
            {"system": "email", "value": record["email"]},
        ],
        "address": [
            {
                "line": lines,
                "city": record["town"],
                "postalCode": record["postcode"],
                "country": record["country"],
            }
        ],
    }


def appointment(record: dict[str, Any], patient_ref: str) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": record["id"],
        "status": APPOINTMENT_STATUS.get(record["status"], "booked"),
        "serviceType": [{"text": record["consultation_type"]}],
        "start": record["starts_at"],
        "end": record["ends_at"],
        "created": record["created_at"][:10],
        "participant": [
            {"actor": {"reference": patient_ref}, "status": "accepted"},
            {"actor": {"display": record["professional"]}, "status": "accepted"},
        ],
    }


def _answer(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    return {"valueString": str(value)}


def questionnaire_response(record: dict[str, Any], patient_ref: str) -> dict[str, Any]:
    answers = record.get("answers") or {}
    return {
        "resourceType": "QuestionnaireResponse",
        "id": record["id"],
        "status": "completed",
        "subject": {"reference": patient_ref},
        "authored": record["completed_at"],
        "item": [
            {"linkId": str(link), "answer": [_answer(value)]}
            for link, value in answers.items()
            if value is not None and value != ""
        ],
    }


# Where the codes of a Consent come from: FHIR's own vocabularies, and Praxis's for purposes.
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://loinc.org"
CONSENT_POLICY = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PRAXIS_PURPOSES = "urn:praxis:consent"  # purpose.channel, e.g. marketing.email


def consent(record: dict[str, Any], patient_ref: str) -> dict[str, Any]:
    """One consent record (given or withdrawn, append-only) as a Consent: a withdrawal is an
    opt-out that denies, a consent an opt-in that permits; the latest of each is in force."""
    given = bool(record["given"])
    key = f"{record['purpose']}.{record['channel']}"
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": record["id"],
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": CONSENT_SCOPE,
                    "code": "patient-privacy",
                    "display": "Privacy Consent",
                }
            ]
        },
        "category": [{"coding": [{"system": CONSENT_CATEGORY, "code": "59284-0"}], "text": key}],
        "patient": {"reference": patient_ref},
        "dateTime": record["recorded_at"],
        "policyRule": {
            "coding": [{"system": CONSENT_POLICY, "code": "OPTIN" if given else "OPTOUT"}],
            "text": f"how: {record['method']}"
            + (
                f"; privacy notice version {record['notice_version']}"
                if record.get("notice_version")
                else ""
            ),
        },
        "provision": {
            "type": "permit" if given else "deny",
            "purpose": [{"system": PRAXIS_PURPOSES, "code": key}],
        },
    }
    if record.get("on_your_behalf_by"):  # a parent, carer or staff member acted for them
        resource["performer"] = [{"display": f"acted for them: {record['on_your_behalf_by']}"}]
    return resource


Mapper = Callable[[dict[str, Any], str], dict[str, Any] | None]
# The sections of an export that have a FHIR shape, and how each record becomes a resource.
MAPPERS: dict[str, Mapper] = {
    "account": lambda record, _ref: patient(record),
    "appointments": appointment,
    "intake_answers": lambda record, ref: (
        questionnaire_response(record, ref) if record.get("answers") is not None else None
    ),
    "consents": consent,
}


def entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
