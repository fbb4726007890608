"""Creating accounts from the command line, any role, with the same checks as the forms."""

from __future__ import annotations

from typing import Any

from core.accounts import registration
from core.accounts.fields import clean_email, clean_username, parse
from core.accounts.forms import ProfessionalRegistration, StaffAccount
from core.accounts.models import ProfessionalStatus
from core.db import utcnow
from core.errors import InvalidInput
from core.runtime import Runtime
from tenants.directory import TenantInfo
from tenants.services import tenant_by_slug


async def create_account(
    runtime: Runtime, role: str, slug: str | None, password: str, fields: dict[str, Any]
) -> str:
    values = {k: v for k, v in fields.items() if v is not None} | {"password": password}
    if role == "operator":
        return await _operator(runtime, values)
    async with runtime.database.reading() as db:
        row = await tenant_by_slug(db, slug or "")
    if row is None:
        raise InvalidInput({"tenant": f"no clinic has the slug {slug!r}"})
    tenant = TenantInfo.from_row(row)
    region = tenant.locale.rsplit("_", 1)[-1]
    async with runtime.database.writing(tenant.id) as db:
        if role == "professional":
            form = parse(ProfessionalRegistration, values, region=region)
            user, profile = await registration.register_professional(db, form, runtime.passwords)
            if values.get("approved"):
                profile.status = ProfessionalStatus.APPROVED.value
                profile.decided_at = utcnow()
                await db.commit()
        elif role == "clinic_admin":
            form_staff = parse(StaffAccount, values, region=region)
            user = await registration.create_clinic_admin(db, form_staff, runtime.passwords)
        else:
            from core.accounts.forms import ConsumerRegistration

            consumer = parse(ConsumerRegistration, values, region=region)
            user = await registration.register_consumer(db, consumer, runtime.passwords)
    return f"Created {role} {user.username} at {tenant.slug}."


async def _operator(runtime: Runtime, values: dict[str, Any]) -> str:
    from core.accounts.fields import clean_password

    try:
        username = clean_username(values.get("username", ""))
        email = clean_email(values.get("email", ""))
        password = clean_password(values["password"])
    except ValueError as exc:
        raise InvalidInput({"operator": str(exc)}) from None
    async with runtime.database.writing() as db:
        operator = await registration.create_operator(
            db,
            username=username,
            full_name=values.get("full_name", ""),
            email=email,
            password=password,
            passwords=runtime.passwords,
        )
    return f"Created platform operator {operator.username}."
