"""The demo clinic: a tenant and one account of each kind, loaded idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts import registration
from praxis.core.accounts.forms import ConsumerRegistration, ProfessionalRegistration, StaffAccount
from praxis.core.accounts.models import Operator, Professional, ProfessionalStatus, User
from praxis.core.booking import diary
from praxis.core.booking.forms import ConsultationTypeForm, WeeklyHoursForm
from praxis.core.booking.models import ConsultationMode
from praxis.core.db import utcnow
from praxis.core.payments.models import PaymentAccount
from praxis.core.plugins.settings import put_settings
from praxis.core.runtime import Runtime
from praxis.core.sandbox.mount import base_url
from praxis.tenants.onboarding import read_tenant_file
from praxis.tenants.services import save_tenant, set_listing

DEMO_TOWN = "London"  # where the demo clinic is found in the public directory
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


DEMO_ACCOUNT = "acct_1SandboxDemoClinic"  # the clinic's connected account in the sandbox


def sandbox_settings(rt: Runtime, port: int) -> dict[str, dict[str, Any]]:
    """Every demo plugin pointed at the development sandbox, with made-up credentials."""
    return {
        "payments_stripe": {
            "secret_key": "sk_test_sandbox_platform_key_0000000000",
            "webhook_secret": "whsec_sandbox_demo_0000000000000000",
            "api_base_url": base_url(rt.settings, "stripe", port=port),
        },
        "video_whereby": {
            "api_key": "sandbox-whereby-api-key-demo-clinic",
            "webhook_secret": "sandbox-whereby-webhook-secret-demo",
            "api_base_url": base_url(rt.settings, "whereby", port=port) + "/v1",
        },
        "sms_twilio": {
            "account_sid": "AC" + "0123456789abcdef" * 2,
            "auth_token": "fedcba9876543210" * 2,
            "from_number": "+447700900000",
            "api_base_url": base_url(rt.settings, "twilio", port=port),
        },
        "email_smtp": {
            "from_address": "bookings@riverside-health.example",
            "relay_company": "Riverside Health's mail relay (development mailbox)",
            "relay_privacy_policy_url": "https://riverside-health.example/privacy",
            "mailbox_dir": str((Path(rt.settings.var_dir) / "mailbox").resolve()),
            # The sandbox's "Write to a clinic" page signs as the clinic's mail server would.
            "inbound_secret": "sandbox-inbound-mail-secret-demo",
        },
        "questionnaires": {},
    }


async def _providers(db: AsyncSession, rt: Runtime, tenant_id: Any, port: int) -> None:
    for plugin, values in sandbox_settings(rt, port).items():
        model = rt.plugins.manifests[plugin].settings_model
        await put_settings(
            rt.provider_settings, db, tenant_id=tenant_id, plugin=plugin, model=model, values=values
        )
    account = await db.scalar(
        select(PaymentAccount).where(PaymentAccount.account_ref == DEMO_ACCOUNT)
    )
    if account is None:
        db.add(
            PaymentAccount(
                plugin="payments_stripe",
                account_ref=DEMO_ACCOUNT,
                professional_id=None,
                charges_enabled=True,
                details_submitted=True,
            )
        )
    await db.commit()


async def load_demo(rt: Runtime, *, port: int = 8000) -> list[DemoLogin]:
    """Create what is missing; running it again changes nothing."""
    spec = read_tenant_file(DEMO_FILE)
    async with rt.database.writing() as db:
        tenant, outcome = await save_tenant(
            db, spec, platform_domain=rt.settings.platform_domain, update=True
        )
        if outcome == "created":  # listed once, so a later opt-out at /admin/directory sticks
            await set_listing(db, tenant.id, listed=True, town=DEMO_TOWN)
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
        await _providers(db, rt, tenant.id, port)
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
