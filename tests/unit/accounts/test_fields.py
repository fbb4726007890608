"""core.accounts.fields: what people type, checked and normalised, with messages that never
echo the input back."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from praxis.core.accounts.fields import (
    PASSWORD_MIN,
    Email,
    Line,
    Password,
    Phone,
    Postcode,
    Text,
    Username,
    field_messages,
    parse,
)
from praxis.core.accounts.forms import ConsumerRegistration
from praxis.core.booking.forms import ConsultationTypeForm, DayChangeForm, WeeklyHoursForm
from praxis.core.errors import InvalidInput


class Person(BaseModel):
    phone: Phone = ""
    postcode: Postcode = ""
    username: Username = "someone"
    password: Password = "a-good-long-password"
    email: Email = "someone@example.org"
    line: Line = ""
    text: Text = ""
    count: int = Field(0, ge=0, le=10)


def clean(region: str = "GB", **values: Any) -> Person:
    return Person.model_validate(values, context={"region": region})


def message_for(field: str, region: str = "GB", **values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        clean(region, **values)
    return field_messages(caught.value)[field]


# --- phone numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["07911 123456", "07911123456", "+44 7911 123456", "+447911123456", "0044 7911 123456"],
)
def test_gb_mobile_numbers_become_e164(typed: str) -> None:
    assert clean(phone=typed).phone == "+447911123456"


def test_gb_landline_with_punctuation() -> None:
    assert clean(phone="(020) 7946-0018").phone == "+442079460018"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+33 1 42 68 53 00", "+33142685300"),
        ("+1 650-253-0000", "+16502530000"),
        ("+49 30 901820", "+4930901820"),
    ],
)
def test_other_countries_with_a_plus(typed: str, expected: str) -> None:
    assert clean(phone=typed).phone == expected


def test_the_region_decides_how_local_numbers_read() -> None:
    assert clean("FR", phone="01 42 68 53 00").phone == "+33142685300"


@pytest.mark.parametrize("typed", ["12", "07911", "+44 1234", "+999 123456789", "0800 000 00"])
def test_invalid_numbers_are_refused(typed: str) -> None:
    message = message_for("phone", phone=typed)
    assert "phone number" in message
    assert typed not in message


@pytest.mark.parametrize("typed", ["not a number", "phone me", "+"])
def test_text_that_is_no_number_is_refused(typed: str) -> None:
    assert "phone number" in message_for("phone", phone=typed)


# --- postcodes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("n11aa", "N1 1AA"),
        ("M1 1AE", "M1 1AE"),
        ("b338th", "B33 8TH"),
        ("cr26xh", "CR2 6XH"),
        ("dn551pt", "DN55 1PT"),
        ("w1a0ax", "W1A 0AX"),
        ("ec1a1bb", "EC1A 1BB"),
    ],
)
def test_uk_postcodes_are_normalised(typed: str, expected: str) -> None:
    assert clean(postcode=typed).postcode == expected


@pytest.mark.parametrize("typed", ["SW1A", "12345", "SW1A 1A", "ABCDEFG", "SW1A-1AA", "1AA SW1"])
def test_bad_uk_postcodes_are_refused(typed: str) -> None:
    message = message_for("postcode", postcode=typed)
    assert message == "Enter a UK postcode, like SW1A 1AA."


def test_postcodes_elsewhere_are_kept_as_typed_in_upper_case() -> None:
    assert clean("FR", postcode="75007").postcode == "75007"
    assert clean("NL", postcode="1012 ab").postcode == "1012 AB"
    assert "postcode" in message_for("postcode", "FR", postcode="7")


# --- usernames, passwords, text ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("Alice", "alice"), (" bob.smith ", "bob.smith"), ("dr_rivera-2", "dr_rivera-2")],
)
def test_usernames_are_lower_cased_and_trimmed(typed: str, expected: str) -> None:
    assert clean(username=typed).username == expected


def test_fullwidth_letters_fold_to_ascii() -> None:
    assert clean(username="\uff41\uff4c\uff49\uff43\uff45").username == "alice"


@pytest.mark.parametrize(
    "typed", ["ab", "a" * 33, ".alice", "-alice", "al ice", "alice@example", "ålice", ""]
)
def test_bad_usernames_are_refused(typed: str) -> None:
    assert message_for("username", username=typed).startswith("Use 3 to 32 characters")


def test_password_rules() -> None:
    assert clean(password="correct-horse-battery").password == "correct-horse-battery"
    assert message_for("password", password="short") == f"Use at least {PASSWORD_MIN} characters."
    assert message_for("password", password="x" * 129) == "Use at most 128 characters."
    assert "less predictable" in message_for("password", password="abababababab")


def test_email_is_normalised_and_checked() -> None:
    assert clean(email="Someone@Example.ORG").email == "Someone@example.org"
    assert message_for("email", email="not-an-email") == (
        "Enter an email address like name@example.com."
    )


def test_single_lines_and_free_text() -> None:
    assert clean(line="  Flat 2 ").line == "Flat 2"
    assert clean(text="two\nlines").text == "two\nlines"
    assert message_for("line", line="two\nlines") == "Keep this field on one line."
    assert "special characters" in message_for("text", text="bell\x07")


# --- messages --------------------------------------------------------------------------------


SECRET_INPUT = "07000-SECRET-9"


def test_field_messages_never_echo_what_was_typed() -> None:
    bad = {
        "phone": SECRET_INPUT,
        "postcode": SECRET_INPUT,
        "username": SECRET_INPUT + " !",
        "password": "SECRET",
        "email": SECRET_INPUT,
        "line": SECRET_INPUT + "\nsecond line",
        "count": SECRET_INPUT,
    }
    with pytest.raises(ValidationError) as caught:
        clean(**bad)
    messages = field_messages(caught.value)
    assert set(messages) == set(bad)
    for message in messages.values():
        assert "SECRET" not in message
        assert message.endswith(".")
        assert not message.startswith("Value error")


def test_friendly_messages_for_pydantic_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        clean(count=11)
    assert field_messages(caught.value) == {"count": "Enter a number of at most 10."}
    with pytest.raises(ValidationError) as caught:
        clean(count="many")
    assert field_messages(caught.value) == {"count": "Enter a whole number."}


def test_parse_raises_invalid_input_naming_each_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(ConsumerRegistration, {"username": "x", "email": "nope"})
    fields = caught.value.fields
    assert fields["username"].startswith("Use 3 to 32 characters")
    assert fields["email"] == "Enter an email address like name@example.com."
    for required in ("full_name", "phone", "address_line1", "town", "postcode", "password"):
        assert fields[required] == "This field is required."
    assert "nothing was saved" in caught.value.message


def test_parse_uses_the_region_for_phone_and_postcode() -> None:
    values = {
        "full_name": "Anne Example",
        "username": "anne",
        "email": "anne@example.org",
        "phone": "01 42 68 53 00",
        "address_line1": "1 rue de Rivoli",
        "town": "Paris",
        "postcode": "75001",
        "password": "correct-horse-battery",
    }
    form = parse(ConsumerRegistration, values, region="FR")
    assert (form.phone, form.postcode) == ("+33142685300", "75001")
    with pytest.raises(InvalidInput) as caught:
        parse(ConsumerRegistration, values)  # read as GB, neither is valid
    assert set(caught.value.fields) == {"phone", "postcode"}


# --- what Professionals type about their diary (core.booking.forms) --------------------------


def consultation_type(**values: Any) -> ConsultationTypeForm:
    return ConsultationTypeForm.model_validate(
        {"name": "Standard", "duration_minutes": 30, "price": "45.00", **values}
    )


def booking_message(field: str, **values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        consultation_type(**values)
    return field_messages(caught.value)[field]


@pytest.mark.parametrize(
    ("currency", "price", "minor"),
    [("GBP", "45.00", 4500), ("gbp", "45", 4500), ("EUR", "0.5", 50), ("JPY", "4500", 4500)],
)
def test_prices_in_minor_units(currency: str, price: str, minor: int) -> None:
    form = consultation_type(currency=currency, price=price)
    assert form.currency == currency.upper()
    assert form.price_minor() == minor


@pytest.mark.parametrize("currency", ["XYZ", "EURO", "eu", "XXX", "123", ""])
def test_unknown_currencies_are_refused(currency: str) -> None:
    message = booking_message("currency", currency=currency)
    assert message == "Use a three-letter currency code such as GBP or EUR."


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("45.001", "Enter the price with at most 2 decimals."),
        ("-5", "Enter a price of 0 or more."),
        ("1e2", "Enter the price as a number, like 45 or 45.00."),
        ("NaN", "Enter the price as a number, like 45 or 45.00."),
        ("45,00", "Enter the price as a number, like 45 or 45.00."),
        ("100000", "Enter a price below 100,000."),
    ],
)
def test_bad_prices(price: str, expected: str) -> None:
    assert booking_message("price", price=price) == expected


def test_a_currency_without_minor_units_takes_no_decimals() -> None:
    message = booking_message("price", currency="JPY", price="45.5")
    assert message == "Enter the price with no decimals."


def test_durations_and_times_sit_on_the_diary_grid() -> None:
    assert "Enter a number of at least 5." in booking_message(
        "duration_minutes", duration_minutes=0
    )
    with pytest.raises(ValidationError) as caught:
        WeeklyHoursForm(weekday=0, starts_at=time(9, 7), ends_at=time(10))
    assert field_messages(caught.value)["starts_at"] == (
        "Use a time on a 5-minute boundary, like 09:00 or 09:15."
    )
    with pytest.raises(ValidationError) as caught:
        WeeklyHoursForm(weekday=0, starts_at=time(10), ends_at=time(9))
    assert field_messages(caught.value) == {"__all__": "The end time must be after the start time."}


def test_day_changes() -> None:
    whole_day = DayChangeForm.model_validate({"on_date": "2026-12-01", "starts_at": ""})
    assert (whole_day.starts_at, whole_day.ends_at, whole_day.available) == (None, None, False)
    for values, expected in (
        (
            {"starts_at": "09:00"},
            "Give both a start and an end time, or neither for the whole day.",
        ),
        ({"available": "on"}, "Extra hours need a start and an end time."),
        ({"starts_at": "10:00", "ends_at": "09:00"}, "The end time must be after the start time."),
    ):
        with pytest.raises(ValidationError) as caught:
            DayChangeForm.model_validate({"on_date": "2026-12-01", **values})
        assert field_messages(caught.value) == {"__all__": expected}
