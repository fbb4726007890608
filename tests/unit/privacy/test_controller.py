"""The controller settings form (core.privacy.controller): one message per bad field, values
normalised as onboarding normalises them."""

from __future__ import annotations

import pytest

from praxis.core.errors import InvalidInput
from praxis.core.privacy.controller import FIELD_LABELS, read_form
from praxis.tenants.schema import ICO_COMPLAINTS, Controller

GOOD = {
    "legal_name": "North Clinic Ltd",
    "registered_number": "",
    "address": "1 High Street, London N1 1AA",
    "dpo_contact": "DPO@North.Example",
    "ico_registration": " za123456 ",
    "complaints_route": ICO_COMPLAINTS,
    "closed_account_months": "6",
    "billing_years": "6",
    "tenant_exit_months": "6",
}


def test_a_good_form_is_read_and_normalised() -> None:
    found = read_form(GOOD)
    assert found.controller.ico_registration == "ZA123456"
    assert found.controller.dpo_contact == "DPO@north.example"
    assert found.controller.registered_number is None  # empty: none
    assert found.retention.closed_account_months == 6
    assert found.values()["registered_number"] == ""


def test_every_bad_field_is_named_with_its_own_message() -> None:
    bad = {**GOOD, "legal_name": "", "ico_registration": "1", "billing_years": "0"}
    bad["closed_account_months"] = "six"
    with pytest.raises(InvalidInput) as caught:
        read_form(bad)
    fields = caught.value.fields
    assert set(fields) == {
        "legal_name",
        "ico_registration",
        "billing_years",
        "closed_account_months",
    }
    assert "ICO registration number" in fields["ico_registration"]
    assert fields["closed_account_months"] == "Enter a whole number."


def test_every_field_has_a_label_and_the_complaints_route_defaults_to_the_ico() -> None:
    assert set(FIELD_LABELS) >= set(GOOD)
    legacy = Controller.model_validate(
        {k: v for k, v in GOOD.items() if k in Controller.model_fields and k != "complaints_route"}
    )
    assert legacy.complaints_route == "https://ico.org.uk/make-a-complaint/"


def test_counting_visits_is_off_unless_its_box_is_ticked() -> None:
    assert read_form(GOOD).count_visits is False
    ticked = read_form({**GOOD, "count_visits": "on"})
    assert ticked.count_visits is True
    assert ticked.values()["count_visits"] == "on"
    assert "count_visits" not in read_form(GOOD).values()
    assert ticked.as_stored()["count_visits"] is True
