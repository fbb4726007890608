"""Checks and normalisation for the personal details people type in."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
)

from praxis.core.accounts import common_passwords
from praxis.core.errors import InvalidInput

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
_UK_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PASSWORD_MIN = 10


def clean_username(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip().lower()
    if not _USERNAME.match(value):
        raise ValueError(
            "Use 3 to 32 characters: lower-case letters, digits, dots, hyphens or underscores, "
            "starting with a letter or digit."
        )
    return value


def clean_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError("Enter an email address like name@example.com.") from None


def clean_phone(value: str, info: ValidationInfo) -> str:
    region = (info.context or {}).get("region", "GB")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError("Enter a phone number, like 07911 123456 or +44 7911 123456.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("That phone number is not valid; check the digits and country code.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_text(value: str) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if _CONTROL.search(value.replace("\n", "").replace("\r", "").replace("\t", "")):
        raise ValueError("Remove the special characters from this field.")
    return value


def clean_line(value: str) -> str:
    value = clean_text(value)
    if "\n" in value or "\r" in value:
        raise ValueError("Keep this field on one line.")
    return value


def clean_postcode(value: str, info: ValidationInfo) -> str:
    value = " ".join(value.upper().split())
    country = (info.context or {}).get("region", "GB")
    if country == "GB":
        if not _UK_POSTCODE.match(value):
            raise ValueError("Enter a UK postcode, like SW1A 1AA.")
        compact = value.replace(" ", "")
        return f"{compact[:-3]} {compact[-3:]}"
    if not 2 <= len(value) <= 16:
        raise ValueError("Enter a postcode.")
    return value


def clean_password(value: str) -> str:
    if len(value) < PASSWORD_MIN:
        raise ValueError(f"Use at least {PASSWORD_MIN} characters.")
    if len(value) > 128:
        raise ValueError("Use at most 128 characters.")
    if len(set(value)) < 4:
        raise ValueError("Use a less predictable password (mix different characters).")
    if (why := common_passwords.problem(value)) is not None:
        raise ValueError(why)
    return value


# What the API's schema says of each field (OpenAPI), as close to what the validators accept
# as a schema can say: so clients, and fuzzers, learn the rules before they are refused.
_USERNAME_SCHEMA = {"pattern": r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{2,31}\s*$", "minLength": 3}
_PHONE_SCHEMA = {"pattern": r"^\s*\+?[0-9][0-9 ().-]{5,30}\s*$"}
_POSTCODE_SCHEMA = {"pattern": r"^\s*[A-Za-z0-9][A-Za-z0-9 -]{1,15}$"}
_PASSWORD_SCHEMA = {"minLength": PASSWORD_MIN, "maxLength": 128}

Username = Annotated[str, AfterValidator(clean_username), Field(json_schema_extra=_USERNAME_SCHEMA)]
Email = Annotated[str, AfterValidator(clean_email), Field(json_schema_extra={"format": "email"})]
Phone = Annotated[str, AfterValidator(clean_phone), Field(json_schema_extra=_PHONE_SCHEMA)]
Line = Annotated[str, AfterValidator(clean_line)]
Text = Annotated[str, AfterValidator(clean_text)]
Postcode = Annotated[str, AfterValidator(clean_postcode), Field(json_schema_extra=_POSTCODE_SCHEMA)]
# Passwords are taken exactly as typed: forms strip other fields, never these.
Password = Annotated[
    str,
    StringConstraints(strip_whitespace=False),
    AfterValidator(clean_password),
    Field(json_schema_extra=_PASSWORD_SCHEMA),
]
AsTyped = Annotated[str, StringConstraints(strip_whitespace=False)]

_FRIENDLY = {
    "missing": "This field is required.",
    "string_too_short": "This field is required.",
    "string_too_long": "This is too long (at most {max_length} characters).",
    "int_parsing": "Enter a whole number.",
    "int_type": "Enter a whole number.",
    "greater_than_equal": "Enter a number of at least {ge}.",
    "less_than_equal": "Enter a number of at most {le}.",
    "uuid_parsing": "Choose one of the options offered.",
    "uuid_type": "Choose one of the options offered.",
    "literal_error": "Choose one of the options offered.",
    "enum": "Choose one of the options offered.",
    "datetime_parsing": "Enter a date and time like 2026-12-01T09:00:00Z.",
    "datetime_from_date_parsing": "Enter a date and time like 2026-12-01T09:00:00Z.",
    "date_parsing": "Enter a date like 2026-12-01.",
    "date_from_datetime_parsing": "Enter a date like 2026-12-01.",
    "time_parsing": "Enter a time like 09:30.",
    "string_type": "Enter text here.",
    "bool_parsing": "Choose yes or no.",
    "model_type": "Send a JSON object.",
}

M = TypeVar("M", bound=BaseModel)


def field_messages(exc: ValidationError) -> dict[str, str]:
    """One plain-language message per field; never echoes what was typed."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        # A list item's error belongs to its list's field ("categories.1" -> "categories").
        name = ".".join(str(p) for p in error["loc"] if not isinstance(p, int)) or "__all__"
        if name in fields:
            continue
        if error["type"] == "value_error":
            message = str(error["msg"]).removeprefix("Value error, ")
        else:
            template = _FRIENDLY.get(error["type"], "This value is not valid.")
            message = template.format(**(error.get("ctx") or {}))
        fields[name] = message
    return fields


def parse(model: type[M], data: Mapping[str, Any], *, region: str = "GB") -> M:
    """Validate input into ``model`` or raise InvalidInput naming each bad field."""
    try:
        return model.model_validate(dict(data), context={"region": region})
    except ValidationError as exc:
        raise InvalidInput(field_messages(exc)) from None
