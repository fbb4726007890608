"""praxis.core.privacy.fhir: the records of an export become valid FHIR resources."""

from __future__ import annotations

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from praxis.core.privacy import fhir

PATIENT = "urn:uuid:0b8a4f2e-8a4b-4c0e-9b4c-4f0f6a1d2c3e"
ACCOUNT = {
    "id": "0b8a4f2e-8a4b-4c0e-9b4c-4f0f6a1d2c3e",
    "full_name": "Sam Example",
    "email": "sam@example.org",
    "phone": "+447911123456",
    "address_line1": "1 High Street",
    "address_line2": "",
    "town": "London",
    "postcode": "N1 1AA",
    "country": "GB",
    "is_active": True,
}


def test_the_account_is_a_patient_without_empty_address_lines() -> None:
    resource = fhir.patient(ACCOUNT)
    Patient.model_validate(resource)
    assert resource["address"][0]["line"] == ["1 High Street"]


def test_every_appointment_state_is_a_fhir_status() -> None:
    for status in fhir.APPOINTMENT_STATUS:
        record = {
            "id": "5c1d9a5e-1d1b-4d59-9a57-1f2b1c9c0a11",
            "status": status,
            "consultation_type": "Standard",
            "starts_at": "2026-12-07T09:00:00+00:00",
            "ends_at": "2026-12-07T09:30:00+00:00",
            "created_at": "2026-12-01T10:00:00+00:00",
            "professional": "Dr Rivera",
        }
        Appointment.model_validate(fhir.appointment(record, PATIENT))


def test_answers_of_each_type_become_typed_values_and_blanks_are_left_out() -> None:
    record = {
        "id": "9a0f3c5e-3e5b-4d1c-8f7e-2b6a1c4d5e6f",
        "completed_at": "2026-12-01T10:00:00+00:00",
        "answers": {"height": 172.5, "visits": 2, "smokes": False, "concerns": "Sleep", "x": ""},
    }
    resource = fhir.questionnaire_response(record, PATIENT)
    QuestionnaireResponse.model_validate(resource)
    values = {item["linkId"]: item["answer"][0] for item in resource["item"]}
    assert values == {
        "height": {"valueDecimal": 172.5},
        "visits": {"valueInteger": 2},
        "smokes": {"valueBoolean": False},
        "concerns": {"valueString": "Sleep"},
    }
