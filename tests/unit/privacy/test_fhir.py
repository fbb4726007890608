"""praxis.core.privacy.fhir: the records of an export become valid FHIR resources."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.consent import Consent
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


def _consent(given: bool, **extra: object) -> dict[str, object]:
    return {
        "id": "3d6f1c2a-7b8e-4f9a-8c1d-2e3f4a5b6c7d",
        "purpose": "marketing",
        "channel": "email",
        "given": given,
        "method": "portal",
        "on_your_behalf_by": None,
        "notice_version": None,
        "recorded_at": "2026-12-01T10:00:00+00:00",
        **extra,
    }


@pytest.mark.promise("P31")
@pytest.mark.promise("P35")
def test_a_consent_given_permits_and_a_withdrawal_denies_as_valid_fhir_consents() -> None:
    given = fhir.consent(_consent(True, notice_version=3), PATIENT)
    withdrawn = fhir.consent(_consent(False), PATIENT)
    for resource in (given, withdrawn):
        Consent.model_validate(resource)
        assert resource["patient"] == {"reference": PATIENT}
        assert resource["provision"]["purpose"][0]["code"] == "marketing.email"
    assert (given["provision"]["type"], withdrawn["provision"]["type"]) == ("permit", "deny")
    assert given["policyRule"]["coding"][0]["code"] == "OPTIN"
    assert withdrawn["policyRule"]["coding"][0]["code"] == "OPTOUT"
    assert "privacy notice version 3" in given["policyRule"]["text"]


def test_a_consent_given_on_someones_behalf_names_who_acted() -> None:
    actor = "7f1e2d3c-4b5a-4968-8776-655443322110"
    resource = fhir.consent(_consent(True, on_your_behalf_by=actor), PATIENT)
    Consent.model_validate(resource)
    assert actor in resource["performer"][0]["display"]


def test_the_consents_section_maps_to_consent_resources() -> None:
    made = fhir.MAPPERS["consents"](_consent(True), PATIENT)
    assert made is not None and made["resourceType"] == "Consent"
