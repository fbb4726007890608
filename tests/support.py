"""Factories and HTTP helpers shared by the tests."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import time
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import func, select

from praxis.core.accounts import registration
from praxis.core.accounts.forms import ConsumerRegistration, ProfessionalRegistration, StaffAccount
from praxis.core.accounts.models import ProfessionalStatus
from praxis.core.booking import diary
from praxis.core.booking.forms import ConsultationTypeForm, WeeklyHoursForm
from praxis.core.booking.models import ConsultationMode
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from praxis.tenants.schema import TenantSpec
from praxis.tenants.services import save_tenant

PASSWORD = "correct-horse-battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Person:
    id: uuid.UUID
    username: str
    password: str = PASSWORD


@dataclass
class Clinic:
    tenant: TenantInfo
    host: str
    professional_id: uuid.UUID
    professional: Person
    pending_professional_id: uuid.UUID
    pending_professional: Person
    consumer: Person
    admin: Person
    kinds: dict[str, uuid.UUID] = field(default_factory=dict)


def person_fields(username: str, **extra: Any) -> dict[str, Any]:
    return {
        "full_name": f"{username.title()} Example",
        "username": username,
        "email": f"{username}@example.org",
        "phone": "07911 123456",
        "address_line1": "1 High Street",
        "town": "London",
        "postcode": "N1 1AA",
        "password": PASSWORD,
        **extra,
    }


def tenant_spec(slug: str, **extra: Any) -> TenantSpec:
    return TenantSpec.model_validate(
        {
            "slug": slug,
            "name": f"{slug.title()} Clinic",
            "timezone": "Europe/London",
            "controller": {
                "legal_name": f"{slug.title()} Clinic Ltd",
                "address": "1 High Street, London N1 1AA",
                "dpo_contact": f"dpo@{slug}.example",
                "ico_registration": "ZA123456",
            },
            **extra,
        }
    )


async def make_tenant(rt: Runtime, slug: str, **extra: Any) -> TenantInfo:
    async with rt.database.writing() as db:
        row, _ = await save_tenant(
            db, tenant_spec(slug, **extra), platform_domain=rt.settings.platform_domain
        )
        return TenantInfo.from_row(row)


async def make_professional(
    rt: Runtime, tenant: TenantInfo, username: str, *, approved: bool = True
) -> tuple[uuid.UUID, Person, dict[str, uuid.UUID]]:
    """A Professional bookable 08:00-20:00 every day, offering a 30 and a 60 minute type."""
    form = ProfessionalRegistration.model_validate(
        person_fields(username, qualifications="MBBS", field_of_practice="General practice")
    )
    async with rt.database.writing(tenant.id) as db:
        user, profile = await registration.register_professional(db, form, rt.passwords)
        if approved:
            profile.status = ProfessionalStatus.APPROVED.value
            await db.commit()
        for weekday in range(7):
            hours = WeeklyHoursForm(weekday=weekday, starts_at=time(8), ends_at=time(20))
            await diary.add_weekly_hours(db, profile, hours)
        kinds = {}
        for name, minutes, mode in (
            ("Standard", 30, ConsultationMode.VIDEO),
            ("Long", 60, ConsultationMode.IN_PERSON),
        ):
            kind_form = ConsultationTypeForm(
                name=name, duration_minutes=minutes, price="40.00", mode=mode
            )
            kinds[name] = (await diary.add_consultation_type(db, profile, kind_form)).id
        return profile.id, Person(user.id, user.username), kinds


async def make_consumer(rt: Runtime, tenant: TenantInfo, username: str) -> Person:
    form = ConsumerRegistration.model_validate(person_fields(username))
    async with rt.database.writing(tenant.id) as db:
        user = await registration.register_consumer(db, form, rt.passwords)
        return Person(user.id, user.username)


async def make_admin(rt: Runtime, tenant: TenantInfo, username: str) -> Person:
    form = StaffAccount.model_validate(person_fields(username))
    async with rt.database.writing(tenant.id) as db:
        user = await registration.create_clinic_admin(db, form, rt.passwords)
        return Person(user.id, user.username)


async def make_operator(rt: Runtime, username: str = "ops") -> Person:
    async with rt.database.writing() as db:
        operator = await registration.create_operator(
            db,
            username=username,
            full_name="Ops Person",
            email="ops@example.org",
            password=PASSWORD,
            passwords=rt.passwords,
        )
        return Person(operator.id, operator.username)


async def make_clinic(rt: Runtime, slug: str) -> Clinic:
    tenant = await make_tenant(rt, slug)
    pro_id, pro, kinds = await make_professional(rt, tenant, f"{slug}.pro")
    pending_id, pending, _ = await make_professional(rt, tenant, f"{slug}.newpro", approved=False)
    return Clinic(
        tenant=tenant,
        host=f"{slug}.{rt.settings.platform_domain}",
        professional_id=pro_id,
        professional=pro,
        pending_professional_id=pending_id,
        pending_professional=pending,
        consumer=await make_consumer(rt, tenant, f"{slug}.consumer"),
        admin=await make_admin(rt, tenant, f"{slug}.admin"),
        kinds=kinds,
    )


def csrf_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], *, page: str | None = None
) -> httpx.Response:
    """Submit a form as a browser would: fetch a page for the CSRF token, then POST."""
    shown = await client.get(page or path)
    token = csrf_in(shown.text)
    return await client.post(path, data={**data, "csrf_token": token})


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, *, prefix: str = ""
) -> httpx.Response:
    response = await post_form(
        client, f"{prefix}/login", {"username": username, "password": password}
    )
    assert response.status_code == 303, response.text
    return response


async def api_login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> dict[str, str]:
    """Sign in through the API; returns the headers later POSTs need."""
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def booking_form(clinic: Clinic, start: str, kind: str = "Standard") -> dict[str, str]:
    return {
        "professional_id": str(clinic.professional_id),
        "consultation_type_id": str(clinic.kinds[kind]),
        "starts_at": start,
    }


async def book_by_form(
    client: httpx.AsyncClient,
    clinic: Clinic,
    start: str,
    kind: str = "Standard",
    *,
    page: str = "/",
) -> httpx.Response:
    """Press "Book" on a free time, as a signed-in consumer's browser would."""
    return await post_form(client, "/appointments", booking_form(clinic, start, kind), page=page)


async def count_rows(rt: Runtime, clinic: Clinic, model: Any) -> int:
    async with rt.database.reading(clinic.tenant.id) as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def first_free_slot(
    client: httpx.AsyncClient, clinic: Clinic, kind: str = "Standard", *, skip: int = 0
) -> str:
    response = await client.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={"consultation_type_id": str(clinic.kinds[kind])},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"][skip]["starts_at"])


def image(kind: str = "PNG", size: tuple[int, int] = (400, 300)) -> bytes:
    """A plain picture of this format, as a person would upload it."""
    out = io.BytesIO()
    Image.new("RGB", size, (30, 60, 90)).save(out, format=kind)
    return out.getvalue()


def camera_photo(size: tuple[int, int] = (3000, 2000)) -> bytes:
    """A photo as a phone's camera leaves it: 6 MP of grain, a JPEG of about 4 MB."""
    grain = Image.effect_noise(size, 40)
    out = io.BytesIO()
    Image.merge("RGB", [grain, grain, grain]).save(out, format="JPEG", quality=90)
    return out.getvalue()
