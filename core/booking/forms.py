"""What Professionals and consumers submit about diaries and bookings."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from babel.numbers import get_currency_precision, list_currencies
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from praxis.core.accounts.fields import Line
from praxis.core.booking.models import HOLD_MINUTES, ConsultationMode


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


def _on_grid(value: time) -> time:
    if value.minute % HOLD_MINUTES or value.second or value.microsecond:
        raise ValueError(f"Use a time on a {HOLD_MINUTES}-minute boundary, like 09:00 or 09:15.")
    return value


_PRICE = re.compile(r"^\d+(\.\d+)?$")
# ISO 4217 codes that are not money: no-currency, testing, gold, silver and the like.
_NOT_MONEY = frozenset({"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD"})


def _currency(value: str) -> str:
    value = value.strip().upper()
    if value not in list_currencies() or value in _NOT_MONEY:
        raise ValueError("Use a three-letter currency code such as GBP or EUR.")
    return value


# Days a diary can hold: any real booking, short of the calendar's ends (which overflow).
DIARY_YEARS = range(2000, 3000)
OUTSIDE_DIARY = "Choose a date between the years 2000 and 2999."


def in_diary(day: date) -> bool:
    return day.year in DIARY_YEARS


def _in_diary(moment: datetime) -> datetime:
    if not in_diary(moment.date()):
        raise ValueError(OUTSIDE_DIARY)
    return moment


def _day_in_diary(day: date) -> date:
    if not in_diary(day):
        raise ValueError(OUTSIDE_DIARY)
    return day


DiaryDay = Annotated[date, AfterValidator(_day_in_diary)]
OptionalDiaryDay = Annotated[DiaryDay | None, BeforeValidator(_blank_is_none)]
# The longest time off or run of extra hours one entry can hold: a year and a day.
MAX_RANGE_DAYS = 366


GridTime = Annotated[time, AfterValidator(_on_grid)]
OptionalGridTime = Annotated[GridTime | None, BeforeValidator(_blank_is_none)]


class _Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)


class WeeklyHoursForm(_Form):
    """A recurring window; the same form adds one and edits one."""

    weekday: int = Field(ge=0, le=6)
    starts_at: GridTime
    ends_at: GridTime

    @model_validator(mode="after")
    def _order(self) -> WeeklyHoursForm:
        if self.ends_at <= self.starts_at:
            raise ValueError("The end time must be after the start time.")
        return self


class DayChangeForm(_Form):
    """Time off (or extra hours) from one date to another; times, if given, apply each day."""

    on_date: DiaryDay
    until_date: OptionalDiaryDay = None  # blank: the one day
    starts_at: OptionalGridTime = None
    ends_at: OptionalGridTime = None
    available: bool = False
    note: Line = Field("", max_length=200)

    @field_validator("until_date")
    @classmethod
    def _range(cls, value: date | None, info: ValidationInfo) -> date | None:
        first = info.data.get("on_date")
        if value is None or first is None:
            return value
        if value < first:
            raise ValueError("The last day must be on or after the first day.")
        if (value - first).days >= MAX_RANGE_DAYS:
            raise ValueError(f"Enter at most {MAX_RANGE_DAYS} days at a time.")
        return value

    @property
    def last_day(self) -> date:
        return self.until_date or self.on_date

    @model_validator(mode="after")
    def _times(self) -> DayChangeForm:
        if (self.starts_at is None) != (self.ends_at is None):
            raise ValueError("Give both a start and an end time, or neither for the whole day.")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("The end time must be after the start time.")
        if self.available and self.starts_at is None:
            raise ValueError("Extra hours need a start and an end time.")
        return self


class DiaryQuery(_Form):
    """Which part of the diary to show: a day or the week (Monday to Sunday) around a date."""

    view: Literal["day", "week"] = "week"
    day: OptionalDiaryDay = Field(None, alias="date")  # blank: today


class ConsultationTypeForm(_Form):
    name: Line = Field(min_length=1, max_length=120)
    duration_minutes: int = Field(ge=HOLD_MINUTES, le=480, multiple_of=HOLD_MINUTES)
    currency: Annotated[str, AfterValidator(_currency)] = "GBP"
    price: str = Field(min_length=1, max_length=12)
    mode: ConsultationMode = ConsultationMode.VIDEO

    def price_minor(self) -> int:
        """The price in the currency's minor unit (pence for GBP)."""
        exponent = get_currency_precision(self.currency)
        return int(Decimal(self.price) * (10**exponent))

    @field_validator("price")
    @classmethod
    def _price(cls, value: str, info: ValidationInfo) -> str:
        amount = Decimal(value) if _PRICE.match(value) else None
        if amount is None and value.startswith("-"):
            raise ValueError("Enter a price of 0 or more.")
        if amount is None:
            raise ValueError("Enter the price as a number, like 45 or 45.00.")
        exponent = get_currency_precision(info.data.get("currency", "GBP"))
        if amount != round(amount, exponent):
            decimals = f"at most {exponent} decimals" if exponent else "no decimals"
            raise ValueError(f"Enter the price with {decimals}.")
        if amount >= 100_000:
            raise ValueError("Enter a price below 100,000.")
        return value


class BookingRequest(_Form):
    professional_id: uuid.UUID
    consultation_type_id: uuid.UUID
    starts_at: Annotated[AwareDatetime, AfterValidator(_in_diary)]


class BookingMove(_Form):
    """The new time an appointment is moved to."""

    starts_at: Annotated[AwareDatetime, AfterValidator(_in_diary)]
