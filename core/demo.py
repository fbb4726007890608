"""The demo clinic: a tenant and one account of each kind, loaded idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import registration
from core.accounts.forms import ConsumerRegistration, ProfessionalRegistration, StaffAccount
from core.accounts.models import Operator, Professional, ProfessionalStatus, User
from core.booking import diary
from core.booking.forms import ConsultationTypeForm, WeeklyHoursForm
from core.booking.models import ConsultationMode
from core.db import utcnow
from core.runtime import Runtime
from tenants.onboarding import read_tenant_file
from tenants.services import save_tenant

DEMO_FILE = Path(__file__).parent.parent / "tenants" / "examples" / "demo.toml"


@dataclass(frozen=True)
class DemoLogin:
    who: str
    username: str
    password: str
    where: str


_ADDRESS = {"address_line1": "1 Riverside Walk", "town": "London", "postcode": "SE1 9AA"}
CONSUMER = {
    "full_name": "Alex Morgan",
    "username": "alex",
    "email": "alex@example.org",
    "phone": "07911 123456",
    "password": "demo-consumer-pass",
    **_ADDRESS,
}
PROFESSIONAL = {
    "full_name": "Dr Sam Rivera",
    "username": "dr.rivera",
    "email": "sam.rivera@example.org",
    "phone": "07911 123457",
    "password": "demo-professional-pass",
    "qualifications": "MBBS, MRCGP. GMC registered.",
    "field_of_practice": "General practice",
    "bio": "Fifteen years in general practice; special interest in sleep and stress.",
    **_ADDRESS,
}
ADMIN = {
    "full_name": "Jo Patel",
    "username": "admin",
    "email": "jo.patel@example.org",
    "phone": "07911 123458",
    "password": "demo-admin-pass",
    **_ADDRESS,
}
OPERATOR = {
    "username": "operator",
    "full_name": "Platform Operator",
    "email": "ops@example.org",
    "password": "demo-operator-pass",
}
CONSULTATIONS = [
    ("First consultation", 30, "45.00", ConsultationMode.VIDEO),
    ("Follow-up", 20, "30.00", ConsultationMode.VIDEO),
    ("In-clinic assessment", 45, "60.00", ConsultationMode.IN_PERSON),
]


async def load_demo(rt: Runtime, *, port: int = 8000) -> list[DemoLogin]:
    """Create what is missing; running it again changes nothing."""
    spec = read_tenant_file(DEMO_FILE)
    async with rt.database.writing() as db:
        tenant, _ = await save_tenant(
            db, spec, platform_domain=rt.settings.platform_domain, update=True
        )
        if (
            await db.scalar(select(Operator).where(Operator.username == OPERATOR["username"]))
            is None
        ):
            await registration.create_operator(db, passwords=rt.passwords, **OPERATOR)
    async with rt.database.writing(tenant.id) as db:
        if not await _exists(db, CONSUMER["username"]):
            await registration.register_consumer(
                db, ConsumerRegistration.model_validate(CONSUMER), rt.passwords
            )
        if not await _exists(db, ADMIN["username"]):
            await registration.create_clinic_admin(
                db, StaffAccount.model_validate(ADMIN), rt.passwords
            )
        if not await _exists(db, PROFESSIONAL["username"]):
            await _demo_professional(db, rt)
    portal = f"http://{spec.slug}.{rt.settings.platform_domain}:{port}"
    platform = f"http://{rt.settings.platform_domain}:{port}/platform"
    return [
        DemoLogin("consumer", CONSUMER["username"], CONSUMER["password"], portal),
        DemoLogin("Professional", PROFESSIONAL["username"], PROFESSIONAL["password"], portal),
        DemoLogin("clinic admin", ADMIN["username"], ADMIN["password"], portal + "/admin"),
        DemoLogin("platform operator", OPERATOR["username"], OPERATOR["password"], platform),
    ]


async def _exists(db: AsyncSession, username: str) -> bool:
    return await db.scalar(select(User.id).where(User.username == username)) is not None


async def _demo_professional(db: AsyncSession, rt: Runtime) -> None:
    form = ProfessionalRegistration.model_validate(PROFESSIONAL)
    _user, profile = await registration.register_professional(db, form, rt.passwords)
    profile.status = ProfessionalStatus.APPROVED.value
    profile.decided_at = utcnow()
    await db.commit()
    await _diary(db, profile)


async def _diary(db: AsyncSession, profile: Professional) -> None:
    for weekday in range(5):
        hours = WeeklyHoursForm(weekday=weekday, starts_at=time(9), ends_at=time(17))
        await diary.add_weekly_hours(db, profile, hours)
    for name, minutes, price, mode in CONSULTATIONS:
        kind = ConsultationTypeForm(name=name, duration_minutes=minutes, price=price, mode=mode)
        await diary.add_consultation_type(db, profile, kind)
