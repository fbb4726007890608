"""The shape of a tenant: what an onboarding TOML file may say, validated field by field."""

from __future__ import annotations

import functools
import re
import zoneinfo
from typing import Annotated

import jinja2
from babel import Locale, UnknownLocaleError
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from praxis.core.providers.common import PluginKind

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ICO = re.compile(r"^[A-Z0-9]{8}$")
ICO_COMPLAINTS = "https://ico.org.uk/make-a-complaint/"
RESERVED_SLUGS = frozenset({"www", "api", "admin", "platform", "static", "mail", "app", "status"})
OVERRIDABLE_TEMPLATES = frozenset(
    {"portal/home.html", "portal/_footer.html", "portal/_welcome.html", "base.html"}
)


@functools.cache
def _time_zones() -> frozenset[str]:
    # Only IANA names: "localtime" and the like differ from one server to the next.
    return frozenset(zoneinfo.available_timezones() - {"localtime", "posixrules", "Factory"})


def time_zones() -> frozenset[str]:
    """The IANA time zones a clinic may choose."""
    return _time_zones()


def template_syntax_problems(templates: dict[str, str]) -> list[str]:
    """One line per template that Jinja cannot parse, naming the template and the line."""
    env = jinja2.Environment(autoescape=True)
    found = []
    for name, source in sorted(templates.items()):
        try:
            env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            found.append(f"{name} line {exc.lineno}: {exc.message}")
    return found


def _colour(value: str) -> str:
    if not _COLOUR.match(value):
        raise ValueError(f"must be a colour like #0b6e4f, not {value!r}")
    return value.lower()


def _hostname(value: str) -> str:
    host = value.strip().lower().rstrip(".")
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_HOST_LABEL.match(x) for x in labels):
        raise ValueError(f"{value!r} is not a domain name such as clinic.example.org")
    return host


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid email address: {exc}") from None


Colour = Annotated[str, AfterValidator(_colour)]
Hostname = Annotated[str, AfterValidator(_hostname)]
Email = Annotated[str, AfterValidator(_email)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Branding(_Strict):
    primary_colour: Colour = "#0b6e4f"
    accent_colour: Colour = "#b3541e"
    logo_url: str | None = Field(None, max_length=500)
    tagline: str = Field("", max_length=200)
    template_overrides: dict[str, str] = Field(default_factory=dict)

    @field_validator("logo_url")
    @classmethod
    def _logo(cls, value: str | None) -> str | None:
        ours = ("https://", "/static/", "/-/logo?")  # /-/logo: uploaded on /admin/branding
        if value is not None and not value.startswith(ours):
            raise ValueError("must be an https:// address or a /static/ path")
        return value

    @field_validator("template_overrides")
    @classmethod
    def _overrides(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - OVERRIDABLE_TEMPLATES)
        if unknown:
            allowed = ", ".join(sorted(OVERRIDABLE_TEMPLATES))
            raise ValueError(f"cannot override {', '.join(unknown)}; overridable: {allowed}")
        problems = template_syntax_problems(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value


class Controller(_Strict):
    """The tenant as data controller, as its privacy notice names it."""

    legal_name: str = Field(min_length=1, max_length=200)
    registered_number: str | None = Field(None, max_length=40)
    address: str = Field(min_length=1, max_length=500)
    dpo_contact: Email
    ico_registration: str
    # Where a patient can complain about how their data is handled (P36): the ICO by default.
    complaints_route: str = Field(ICO_COMPLAINTS, min_length=1, max_length=300)

    @field_validator("ico_registration")
    @classmethod
    def _ico(cls, value: str) -> str:
        value = value.strip().upper()
        if not _ICO.match(value):
            raise ValueError("must be the 8-character ICO registration number, e.g. ZA123456")
        return value


class BookingPolicy(_Strict):
    cancellation_window_hours: int = Field(24, ge=0, le=720)
    minimum_notice_hours: int = Field(2, ge=0, le=720)
    horizon_days: int = Field(60, ge=1, le=365)
    # Cancelled at least this long before the start: the whole price back; later, the share
    # below. A clinic cancelling always refunds in full.
    full_refund_hours: int = Field(24, ge=0, le=720)
    late_refund_percent: int = Field(0, ge=0, le=100)
    reminder_hours_before: int = Field(24, ge=0, le=168)  # 0: no reminders
    payment_hold_minutes: int = Field(30, ge=30, le=1440)  # Stripe's shortest checkout life
    # Kept free between two consultations (minutes, whole 5-minute units of the diary).
    buffer_minutes: int = Field(0, ge=0, le=120)
    # Where in-person consultations take place; empty: the controller's registered address.
    in_person_address: str = Field("", max_length=300)

    @field_validator("buffer_minutes")
    @classmethod
    def _whole_units(cls, value: int) -> int:
        if value % 5:  # the diary's unit (booking.models.HOLD_MINUTES)
            raise ValueError("Use steps of 5 minutes, like 5, 10 or 15.")
        return value


class Retention(_Strict):
    closed_account_months: int = Field(6, ge=1, le=120)
    tenant_exit_months: int = Field(6, ge=1, le=120)
    billing_years: int = Field(6, ge=1, le=20)


class FirstAdmin(_Strict):
    """The clinic's first admin: invited by email to choose their own credentials."""

    full_name: str = Field(min_length=1, max_length=200)
    email: Email


class TenantSpec(_Strict):
    """Everything needed to onboard a clinic."""

    slug: str
    name: str = Field(min_length=1, max_length=200)
    timezone: str = "Europe/London"
    locale: str = "en_GB"
    domains: list[Hostname] = Field(default_factory=list)
    branding: Branding = Field(default_factory=Branding)
    controller: Controller
    booking: BookingPolicy = Field(default_factory=BookingPolicy)
    retention: Retention = Field(default_factory=Retention)
    providers: dict[PluginKind, str] = Field(default_factory=dict)  # kind -> plugin name
    first_admin: FirstAdmin | None = None  # invited when the clinic is created

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("use lower-case letters, digits and hyphens (e.g. north-clinic)")
        if value in RESERVED_SLUGS:
            raise ValueError(f"{value!r} is reserved; choose another slug")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if value not in _time_zones():
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/London")
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        try:
            return str(Locale.parse(value))
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"{value!r} is not a locale such as en_GB") from None
