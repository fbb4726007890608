"""What people submit to register, sign in and manage their account."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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
