"""What the API sends back. Inputs reuse the forms of the services."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from praxis.core.accounts.models import Professional, User
from praxis.core.booking.models import Appointment, ConsultationType


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorBody(_Out):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_input")
    message: str = Field(description="A sentence a person can act on")
    fields: dict[str, str] = Field(default_factory=dict, description="Per-field messages")


class ErrorOut(_Out):
    error: ErrorBody


class Price(_Out):
    amount_minor: int = Field(description="In the currency's minor unit (pence for GBP)")
    currency: str


class ConsultationTypeOut(_Out):
    id: uuid.UUID
    name: str
    duration_minutes: int
    mode: str = Field(description="video or in_person")
    price: Price

    @classmethod
    def of(cls, kind: ConsultationType) -> ConsultationTypeOut:
        return cls(
            id=kind.id,
            name=kind.name,
            duration_minutes=kind.duration_minutes,
            mode=kind.mode,
            price=Price(amount_minor=kind.price_minor, currency=kind.currency),
        )


class ProfessionalOut(_Out):
    id: uuid.UUID
    name: str
    field_of_practice: str
    qualifications: str
    bio: str
    photo_url: str | None = None  # on the clinic's own site; None: no photo

    @classmethod
    def of(cls, pro: Professional, photo_url: str | None = None) -> ProfessionalOut:
        return cls(
            id=pro.id,
            name=pro.display_name,
            field_of_practice=pro.field_of_practice,
            qualifications=pro.qualifications,
            bio=pro.bio,
            photo_url=photo_url,
        )


class ProfessionalDetailOut(ProfessionalOut):
    consultation_types: list[ConsultationTypeOut]


class ProfessionalList(_Out):
    data: list[ProfessionalOut]


class Slot(_Out):
    starts_at: datetime
    ends_at: datetime


class SlotList(_Out):
    professional_id: uuid.UUID
    consultation_type_id: uuid.UUID
    timezone: str = Field(description="The clinic's time zone, in which days are counted")
    data: list[Slot]


class Named(_Out):
    id: uuid.UUID
    name: str


class AppointmentOut(_Out):
    id: uuid.UUID
    professional: Named
    consultation_type: Named
    starts_at: datetime
    ends_at: datetime
    status: str = Field(description="booked or cancelled")
    mode: str
    price: Price
    cancellable_until: datetime

    @classmethod
    def of(cls, a: Appointment, cancellable_until: datetime) -> AppointmentOut:
        return cls(
            id=a.id,
            professional=Named(id=a.professional.id, name=a.professional.display_name),
            consultation_type=Named(id=a.consultation_type.id, name=a.consultation_type.name),
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            status=a.status,
            mode=a.mode,
            price=Price(amount_minor=a.price_minor, currency=a.currency),
            cancellable_until=cancellable_until,
        )


class AppointmentList(_Out):
    data: list[AppointmentOut]


class Address(_Out):
    line1: str
    line2: str
    town: str
    postcode: str
    country: str


class MeOut(_Out):
    id: uuid.UUID
    username: str
    role: str
    full_name: str
    email: str
    phone: str = Field(description="E.164")
    address: Address
    csrf_token: str = Field(description="Send as X-CSRF-Token on POST requests")

    @classmethod
    def of(cls, user: User, csrf_token: str) -> MeOut:
        return cls(
            id=user.id,
            username=user.username,
            role=user.role,
            full_name=user.full_name,
            email=user.email,
            phone=user.phone,
            address=Address(
                line1=user.address_line1,
                line2=user.address_line2,
                town=user.town,
                postcode=user.postcode,
                country=user.country,
            ),
            csrf_token=csrf_token,
        )


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)
    code: str | None = Field(
        None, description="Authenticator code, or a recovery code, for staff with two-step"
    )


class Done(_Out):
    ok: bool = True


class PasswordIn(BaseModel):
    """Closing or erasing an account asks for the password again."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=200, description="The account's password")


class ClosedOut(_Out):
    closed_at: datetime
    erased: bool = Field(description="True once the personal data is erased")


class RestrictionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    restricted: bool = Field(description="True: keep my data but do nothing new with it")


class RestrictionOut(_Out):
    restricted: bool
