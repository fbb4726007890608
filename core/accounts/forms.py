"""What people submit to register, sign in and manage their account."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from praxis.core.accounts import recovery
from praxis.core.accounts.fields import (
    AsTyped,
    Email,
    Line,
    Password,
    Phone,
    Postcode,
    Text,
    Username,
)


class _Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)


class PersonDetails(_Form):
    full_name: Line = Field(min_length=1, max_length=200)
    email: Email = Field(min_length=1, max_length=254)
    phone: Phone = Field(min_length=1, max_length=40)
    address_line1: Line = Field(min_length=1, max_length=200)
    address_line2: Line = Field("", max_length=200)
    town: Line = Field(min_length=1, max_length=100)
    postcode: Postcode = Field(min_length=1, max_length=16)


class ConsumerRegistration(PersonDetails):
    username: Username = Field(min_length=1)
    password: Password = Field(min_length=1)


class ProfessionalRegistration(ConsumerRegistration):
    qualifications: Text = Field(min_length=1, max_length=2000)
    field_of_practice: Line = Field(min_length=1, max_length=200)
    bio: Text = Field("", max_length=4000)


class StaffAccount(PersonDetails):
    """A clinic admin created by the operator or the CLI."""

    username: Username = Field(min_length=1)
    password: Password = Field(min_length=1)


class Login(_Form):
    username: str = Field(min_length=1, max_length=200)
    password: AsTyped = Field(min_length=1, max_length=200)


def _six_digits(value: str) -> str:
    digits = value.replace(" ", "")
    if not (len(digits) == 6 and digits.isdigit()):
        raise ValueError("Enter the 6-digit code from your authenticator app.")
    return digits


class SecondFactor(_Form):
    code: Annotated[str, AfterValidator(_six_digits)]


def _app_or_recovery_code(value: str) -> str:
    if recovery.looks_like(value):
        return value
    try:
        return _six_digits(value)
    except ValueError:
        raise ValueError(
            "Enter the 6-digit code from your authenticator app, or one of your recovery "
            "codes (like abcd-efgh-jkmn-pqrs)."
        ) from None


class SignInCode(_Form):
    """At sign-in, a recovery code may stand in for the app's code."""

    code: Annotated[str, AfterValidator(_app_or_recovery_code)] = Field(max_length=40)


class Reauthenticate(_Form):
    """The current password, asked again before a change to how the account signs in."""

    current_password: AsTyped = Field("", max_length=200)


class PasswordChange(Reauthenticate):
    new_password: Password = Field(min_length=1)
