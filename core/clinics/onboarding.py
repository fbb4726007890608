"""Onboarding a clinic: one service for the operator's form and ``praxis tenants add``."""

from __future__ import annotations

from dataclasses import dataclass

from praxis.core.accounts import invitations
from praxis.core.accounts.models import Role
from praxis.core.tenancy import Database
from praxis.tenants.directory import TenantInfo
from praxis.tenants.schema import TenantSpec
from praxis.tenants.services import Outcome, save_tenant


@dataclass(frozen=True)
class Onboarded:
    tenant: TenantInfo
    outcome: Outcome
    invited: str | None  # the first admin's address, when an invitation was queued


async def onboard(
    database: Database,
    spec: TenantSpec,
    *,
    platform_domain: str,
    invited_by: str,
    update: bool = False,
) -> Onboarded:
    """Create (or with ``update`` bring in line) the clinic; a new clinic's first admin is
    invited by email, so nobody but them ever holds their first credentials."""
    async with database.writing() as db:
        row, outcome = await save_tenant(db, spec, platform_domain=platform_domain, update=update)
        tenant = TenantInfo.from_row(row)
    if outcome != "created" or spec.first_admin is None:
        return Onboarded(tenant, outcome, None)
    async with database.writing(tenant.id) as db:
        await invitations.invite(
            db,
            tenant,
            email=spec.first_admin.email,
            full_name=spec.first_admin.full_name,
            role=Role.CLINIC_ADMIN.value,
            invited_by=invited_by,
        )
        await db.commit()
    return Onboarded(tenant, outcome, spec.first_admin.email)
