"""The bench clinic: a tenant whose diary never runs out, set up as onboarding would.

``bench.localhost`` has every provider kind chosen (Stripe, Whereby, Twilio, SMTP) with its
settings stored sealed, as ``praxis providers set`` stores them, and the clinic's Stripe
account connected. Nothing here calls a provider: bookings and webhooks only write outbox
jobs, and the bench servers run no worker. Each Professional is bookable all day, every
day, for a year, in ``SLOT_MINUTES`` free consultations, so thousands of bookings each find
a time of their own. Consumers sign in through the real login form (``sign_in``).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bench.common import PLATFORM_DOMAIN, BenchError, Location, Workspace, settings_for

SLUG = "bench"
HOST = f"{SLUG}.{PLATFORM_DOMAIN}"
TIMEZONE = "Europe/London"
SLOT_MINUTES = 15
HORIZON_DAYS = 365
NOTICE_HOURS = 2
PRICE = "45.00"  # GBP, of the paid consultation
PASSWORD = "bench-consumer-passphrase"
STRIPE_WEBHOOK_SECRET = "whsec_bench_signing_secret_0123456789abcdef"
STRIPE_ACCOUNT = "acct_1BenchClinic0000"
NOWHERE = "http://127.0.0.1:9"  # the discard port: providers are never called in the bench
PROVIDERS = {
    "payments": "payments_stripe",
    "video": "video_whereby",
    "sms": "sms_twilio",
    "email": "email_smtp",
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class BenchClinic:
    tenant_id: uuid.UUID
    professionals: list[uuid.UUID]
    kinds: dict[uuid.UUID, uuid.UUID]  # Professional -> their free SLOT_MINUTES video call
    paid_kinds: dict[uuid.UUID, uuid.UUID]  # Professional -> the same length at PRICE
    consumers: list[str]  # usernames, all with PASSWORD
    consumer_ids: dict[str, uuid.UUID] = field(default_factory=dict)


def plugin_settings(space: Workspace) -> dict[str, dict[str, Any]]:
    return {
        "payments_stripe": {
            "secret_key": "sk_test_bench_platform_key_0123456789",
            "webhook_secret": STRIPE_WEBHOOK_SECRET,
            "api_base_url": NOWHERE,
        },
        "video_whereby": {
            "api_key": "whereby-bench-api-key-0123456789",
            "webhook_secret": "whereby-bench-webhook-secret-0123456789",
            "api_base_url": NOWHERE + "/v1",
        },
        "sms_twilio": {
            "account_sid": "AC" + "b" * 32,
            "auth_token": "c" * 32,
            "from_number": "+447700900123",
            "api_base_url": NOWHERE,
        },
        "email_smtp": {
            "from_address": "bookings@bench.example",
            "relay_company": "Bench Relay Ltd",
            "relay_privacy_policy_url": "https://relay.example/privacy",
            "mailbox_dir": str(space.path / "mailbox"),
        },
    }


def add_clinic(
    space: Workspace, database: Location, *, professionals: int, consumers: int
) -> BenchClinic:
    """Add the bench clinic to a migrated database (outside an event loop), through the
    services onboarding uses, in sessions of ``core.runtime`` on the database's URL (on
    PostgreSQL as the app role, under row-level security)."""
    settings = settings_for(space, database)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        return asyncio.run(_add_clinic(space, settings, professionals, consumers))


async def _add_clinic(
    space: Workspace, settings: Any, professionals: int, consumers: int
) -> BenchClinic:
    from praxis.core.runtime import build_runtime

    rt = build_runtime(settings)
    try:
        tenant_id = await _tenant(rt)
        await _providers(rt, space, tenant_id)
        kinds, paid = {}, {}
        for n in range(professionals):
            pro_id, free, priced = await add_professional(rt, tenant_id, f"bench.pro{n:02d}")
            kinds[pro_id], paid[pro_id] = free, priced
        names = [f"bench.consumer{n:03d}" for n in range(consumers)]
        ids = {name: await _consumer(rt, tenant_id, name) for name in names}
    finally:
        await rt.close()
    return BenchClinic(tenant_id, list(kinds), kinds, paid, names, ids)


async def _tenant(rt: Any) -> uuid.UUID:
    from praxis.tenants.schema import TenantSpec
    from praxis.tenants.services import save_tenant

    spec = TenantSpec.model_validate(
        {
            "slug": SLUG,
            "name": "Bench Clinic",
            "timezone": TIMEZONE,
            "controller": {
                "legal_name": "Bench Clinic Ltd",
                "address": "1 High Street, London N1 1AA",
                "dpo_contact": "dpo@bench.example",
                "ico_registration": "ZA123456",
            },
            "booking": {"minimum_notice_hours": NOTICE_HOURS, "horizon_days": HORIZON_DAYS},
            "providers": PROVIDERS,
        }
    )
    async with rt.database.writing() as db:
        row, _ = await save_tenant(db, spec, platform_domain=rt.settings.platform_domain)
        tenant_id: uuid.UUID = row.id
    return tenant_id


async def _providers(rt: Any, space: Workspace, tenant_id: uuid.UUID) -> None:
    from praxis.core.db import utcnow
    from praxis.core.payments.models import PaymentAccount
    from praxis.core.plugins.settings import put_settings

    async with rt.database.writing(tenant_id) as db:
        for plugin, values in plugin_settings(space).items():
            model = rt.plugins.manifests[plugin].settings_model
            await put_settings(
                rt.provider_settings,
                db,
                tenant_id=tenant_id,
                plugin=plugin,
                model=model,
                values=values,
            )
        db.add(
            PaymentAccount(
                plugin="payments_stripe",
                account_ref=STRIPE_ACCOUNT,
                professional_id=None,
                charges_enabled=True,
                details_submitted=True,
                created_at=utcnow(),
            )
        )
        await db.commit()


def _person(username: str, **extra: str) -> dict[str, str]:
    return {
        "full_name": f"{username.split('.')[-1].title()} Bench",
        "username": username,
        "email": f"{username}@bench.example",
        "phone": "07911 123456",
        "address_line1": "1 High Street",
        "town": "London",
        "postcode": "N1 1AA",
        "password": PASSWORD,
        **extra,
    }


async def add_professional(
    rt: Any, tenant_id: uuid.UUID, username: str, *, field: str = "General practice"
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """An approved Professional bookable all day, every day; returns their id and their
    free and paid consultation types."""
    from praxis.core.accounts import registration
    from praxis.core.accounts.forms import ProfessionalRegistration
    from praxis.core.accounts.models import ProfessionalStatus
    from praxis.core.booking import diary
    from praxis.core.booking.forms import ConsultationTypeForm, WeeklyHoursForm
    from praxis.core.booking.models import ConsultationMode
    from praxis.core.db import utcnow

    form = ProfessionalRegistration.model_validate(
        _person(username, qualifications="MBBS", field_of_practice=field)
    )
    async with rt.database.writing(tenant_id) as db:
        _user, profile = await registration.register_professional(db, form, rt.passwords)
        profile.status = ProfessionalStatus.APPROVED.value
        profile.decided_at = utcnow()
        await db.commit()
        for weekday in range(7):  # all day, every day: the latest grid time ends the day
            hours = WeeklyHoursForm(weekday=weekday, starts_at=time(0), ends_at=time(23, 55))
            await diary.add_weekly_hours(db, profile, hours)
        added = []
        for name, price in (("Check-in call", "0"), ("Consultation", PRICE)):
            kind = ConsultationTypeForm(
                name=name, duration_minutes=SLOT_MINUTES, price=price, mode=ConsultationMode.VIDEO
            )
            added.append((await diary.add_consultation_type(db, profile, kind)).id)
        return profile.id, added[0], added[1]


async def _consumer(rt: Any, tenant_id: uuid.UUID, username: str) -> uuid.UUID:
    from praxis.core.accounts import registration
    from praxis.core.accounts.forms import ConsumerRegistration

    form = ConsumerRegistration.model_validate(_person(username))
    async with rt.database.writing(tenant_id) as db:
        user = await registration.register_consumer(db, form, rt.passwords)
        consumer_id: uuid.UUID = user.id
    return consumer_id


def free_starts(first_day: date, days: int, *, now: datetime) -> list[datetime]:
    """Every free start (UTC) of an empty all-day diary, as the booking service computes it
    (``core.booking.slots.free_slots``, daylight-saving days included), day by day."""
    from praxis.core.booking.slots import free_slots

    zone = ZoneInfo(TIMEZONE)
    weekly = {weekday: [(time(0), time(23, 55))] for weekday in range(7)}
    return free_slots(
        zone=zone,
        first_day=first_day,
        last_day=first_day + timedelta(days=days - 1),
        weekly=weekly,
        changes=[],
        duration=timedelta(minutes=SLOT_MINUTES),
        held=set(),
        earliest=now + timedelta(hours=NOTICE_HOURS + 1),  # an hour's margin for the run
        latest=now + timedelta(days=HORIZON_DAYS - 1),
    )


def spread(starts: list[datetime], per_day: int) -> list[datetime]:
    """The same times reordered day-major, round-robin over days: consecutive bookings land
    on different days, so no day fills up before every day has its share."""
    by_day: dict[date, list[datetime]] = {}
    zone = ZoneInfo(TIMEZONE)
    for start in starts:
        by_day.setdefault(start.astimezone(zone).date(), []).append(start)
    ordered: list[datetime] = []
    for k in range(per_day):
        ordered.extend(day[k] for day in by_day.values() if k < len(day))
    return ordered


# Signing in as a browser would --------------------------------------------------------


@dataclass
class Browser:
    """One consumer's cookies, and the CSRF token the booking page gave them."""

    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(
        self, port: int, method: str, path: str, body: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = {"Host": HOST}
        if self.cookies:
            headers["Cookie"] = self.cookie_header
        data = urlencode(body).encode() if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for value in response.headers.get_all("set-cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return response.status, {k.lower(): v for k, v in response.headers.items()}, text
        finally:
            connection.close()


def sign_in(port: int, username: str, booking_page: str) -> Browser:
    """Sign in through the login form, then open a booking page for its CSRF token (bound
    to the new session, as the page's "Book" buttons carry it)."""
    browser = Browser()
    status, _, html = browser.request(port, "GET", "/login")
    token = _CSRF.search(html)
    if status != 200 or token is None:
        raise BenchError(f"the login page answered {status} without a CSRF field")
    form = {"csrf_token": token.group(1), "username": username, "password": PASSWORD}
    status, headers, _ = browser.request(port, "POST", "/login", form)
    if status != 303 or "praxis_session" not in browser.cookies:
        raise BenchError(f"signing in {username} answered {status} ({headers.get('location')})")
    status, _, html = browser.request(port, "GET", booking_page)
    token = _CSRF.search(html)
    if status != 200 or token is None:
        raise BenchError(f"the booking page answered {status} without a Book button")
    browser.csrf = token.group(1)
    return browser


def today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(TIMEZONE)).date()
