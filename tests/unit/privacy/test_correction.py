"""praxis.core.privacy.correction: every detail a person can correct belongs to a ledger
category, and a partial correction (the API's PATCH) keeps what it leaves out."""

from __future__ import annotations

from praxis.core.accounts.forms import PersonDetails
from praxis.core.accounts.models import User
from praxis.core.ledger import CATEGORY_WORDS
from praxis.core.privacy.correction import FIELD_CATEGORIES, GUARDED, CorrectionPatch


def test_every_correctable_detail_has_a_ledger_category_people_can_read() -> None:
    assert set(FIELD_CATEGORIES) == set(PersonDetails.model_fields)
    assert {c.value for c in FIELD_CATEGORIES.values()} <= set(CATEGORY_WORDS)
    assert set(GUARDED) <= set(FIELD_CATEGORIES)


def test_a_partial_correction_keeps_what_it_leaves_out() -> None:
    user = User(
        full_name="Sam Example",
        email="sam@example.org",
        phone="+447911123456",
        address_line1="1 High Street",
        address_line2="",
        town="London",
        postcode="N1 1AA",
    )
    merged = CorrectionPatch(town="Leeds", current_password="typed as is ").over(user)
    assert merged["town"] == "Leeds" and merged["full_name"] == "Sam Example"
    assert merged["current_password"] == "typed as is "
    assert merged["address_line2"] == ""
