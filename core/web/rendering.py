"""Jinja2 templates with tenant branding; a tenant's overrides render sandboxed."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date, format_datetime, format_time
from jinja2.sandbox import SandboxedEnvironment

from praxis.core.money import money
from praxis.tenants.directory import TenantInfo

TEMPLATES = Path(__file__).parent / "templates"
_OVERRIDE_ENVS = 256


def _filters(env: jinja2.Environment) -> None:
    env.filters["money"] = money
    env.filters["weekday"] = lambda n: WEEKDAYS[int(n)]
    env.globals["field_labels"] = FIELD_LABELS


# How the error summary names each field: the words of its label, not its code name.
FIELD_LABELS = {
    "full_name": "Full name",
    "username": "Username",
    "email": "Email address",
    "phone": "Mobile phone number",
    "address_line1": "Address line 1",
    "address_line2": "Address line 2",
    "town": "Town or city",
    "postcode": "Postcode",
    "password": "Password",
    "qualifications": "Qualifications",
    "field_of_practice": "Field of practice",
    "bio": "About you",
    "code": "Code",
    "weekday": "Day",
    "starts_at": "From",
    "ends_at": "To",
    "day_on_date": "First day",
    "day_until_date": "Last day",
    "day_starts_at": "From",
    "day_ends_at": "To",
    "day_note": "Reason",
    "date": "Date",
    "view": "Show",
    "name": "Name",
    "duration_minutes": "Length in minutes",
    "price": "Price",
    "currency": "Currency",
    "mode": "How it takes place",
}


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Clock:
    """Dates and times in the tenant's zone and locale, for templates."""

    def __init__(self, tenant: TenantInfo | None) -> None:
        self.zone = tenant.zone if tenant else None
        self.locale = tenant.locale if tenant else "en_GB"

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone) if self.zone else moment

    def when(self, moment: datetime) -> str:
        return str(format_datetime(self.local(moment), "EEEE d MMMM y, HH:mm", locale=self.locale))

    def day(self, moment: datetime) -> str:
        return str(format_date(self.local(moment), "EEEE d MMMM y", locale=self.locale))

    def calendar_day(self, day: date) -> str:
        """A calendar day (already the clinic's own), short: "Mon 7 Dec 2026"."""
        return str(format_date(day, "EEE d MMM y", locale=self.locale))

    def hour(self, moment: datetime) -> str:
        return str(format_time(self.local(moment), "HH:mm", locale=self.locale))

    def iso(self, moment: datetime) -> str:
        return moment.isoformat()


class Templates:
    def __init__(self, *, auto_reload: bool = False) -> None:
        self._loader = jinja2.FileSystemLoader(TEMPLATES)
        self.base = jinja2.Environment(
            loader=self._loader,
            autoescape=True,
            auto_reload=auto_reload,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        _filters(self.base)
        self._overridden: OrderedDict[str, jinja2.Environment] = OrderedDict()

    def environment(self, tenant: TenantInfo | None) -> jinja2.Environment:
        overrides = tenant.branding.template_overrides if tenant else None
        if not overrides:
            return self.base
        key = hashlib.sha256(json.dumps(overrides, sort_keys=True).encode()).hexdigest()
        env = self._overridden.get(key)
        if env is None:
            env = SandboxedEnvironment(
                loader=jinja2.ChoiceLoader([jinja2.DictLoader(overrides), self._loader]),
                autoescape=True,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            _filters(env)
            self._overridden[key] = env
            while len(self._overridden) > _OVERRIDE_ENVS:
                self._overridden.popitem(last=False)
        self._overridden.move_to_end(key)
        return env

    def render(self, tenant: TenantInfo | None, name: str, context: dict[str, Any]) -> str:
        return self.environment(tenant).get_template(name).render(context)
