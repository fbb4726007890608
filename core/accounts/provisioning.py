"""Creating accounts from the command line, any role, with the same checks as the forms."""

from __future__ import annotations

from typing import Any

from babel import Locale

from praxis.core.accounts import registration
from praxis.core.accounts.fields import (
    clean_email,
    clean_line,
    clean_password,
    clean_username,
    parse,
)
from praxis.core.accounts.forms import ConsumerRegistration, ProfessionalRegistration, StaffAccount
from praxis.core.accounts.models import ProfessionalStatus
from praxis.core.accounts.passwords import Passwords
from praxis.core.db import utcnow
from praxis.core.errors import InvalidInput
from praxis.core.tenancy import Database
from praxis.tenants.directory import TenantInfo
from praxis.tenants.services import tenant_by_slug


async def create_account(
    database: Database,
    passwords: Passwords,
    role: str,
    slug: str | None,
    password: str,
    fields: dict[str, Any],
) -> str:
    values = {k: v for k, v in fields.items() if v is not None} | {"password": password}
    if role == "operator":
        return await _operator(database, passwords, values)
    async with database.reading() as db:
        row = await tenant_by_slug(db, slug or "")
    if row is None:
        raise InvalidInput({"tenant": f"no clinic has the slug {slug!r}"})
    tenant = TenantInfo.from_row(row)
    region = Locale.parse(tenant.locale).territory or "GB"  # phone and postcode rules
    async with database.writing(tenant.id) as db:
        if role == "professional":
            form = parse(ProfessionalRegistration, values, region=region)
            user, profile = await registration.register_professional(db, form, passwords)
            if values.get("approved"):
                profile.status = ProfessionalStatus.APPROVED.value
                profile.decided_at = utcnow()
                await db.commit()
        elif role == "clinic_admin":
            form_staff = parse(StaffAccount, values, region=region)
            user = await registration.create_clinic_admin(db, form_staff, passwords)
        else:
            consumer = parse(ConsumerRegistration, values, region=region)
            user = await registration.register_consumer(db, consumer, passwords)
    return f"Created {role} {user.username} at {tenant.slug}."


async def _operator(database: Database, passwords: Passwords, values: dict[str, Any]) -> str:
    checks = {
        "username": clean_username,
        "full_name": clean_line,
        "email": clean_email,
        "password": clean_password,
    }
    cleaned: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name, check in checks.items():
        try:
            cleaned[name] = check(str(values.get(name) or ""))
        except ValueError as exc:
            problems[name] = str(exc)
    if "full_name" in cleaned and not 1 <= len(cleaned["full_name"]) <= 200:
        problems["full_name"] = (
            "This is too long (at most 200 characters)."
            if cleaned["full_name"]
            else "This field is required."
        )
    if problems:
        raise InvalidInput(problems)
    async with database.writing() as db:
        operator = await registration.create_operator(db, passwords=passwords, **cleaned)
    return f"Created platform operator {operator.username}."
