"""The public directory on the platform's bare domain: clinics that opted in, and their
approved Professionals, searchable by field of practice, consultation mode, town and how soon
one is free. Each links to the clinic's own portal, where booking happens. Nothing of any
clinic's patients is read here; a clinic that has not opted in is never read at all."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts import photos
from praxis.core.accounts.models import Professional, ProfessionalStatus
from praxis.core.booking import rows
from praxis.core.booking.models import ConsultationMode, ConsultationType
from praxis.core.booking.slots import free_slots
from praxis.core.db import utcnow
from praxis.core.tenancy import Database
from praxis.tenants import services as tenants
from praxis.tenants.directory import TenantInfo

LOOK_AHEAD_DAYS = 14  # how far "next free time" looks
MODES = {ConsultationMode.VIDEO.value: "Video", ConsultationMode.IN_PERSON.value: "In person"}
WITHIN = {"": "Any time", "2": "Within 2 days", "7": "Within a week", "14": "Within 2 weeks"}


@dataclass(frozen=True)
class Search:
    field: str = ""
    mode: str = ""
    town: str = ""
    within: str = ""

    @classmethod
    def of(cls, query: dict[str, str]) -> Search:
        """From the query string; unknown choices read as no filter (a search never fails)."""
        mode = query.get("mode", "")
        within = query.get("within", "")
        return cls(
            field=query.get("field", "").strip()[:100],
            mode=mode if mode in MODES else "",
            town=query.get("town", "").strip()[:100],
            within=within if within in WITHIN else "",
        )


@dataclass(frozen=True)
class ListedProfessional:
    id: uuid.UUID
    name: str
    field_of_practice: str
    modes: tuple[str, ...]
    next_free: datetime | None
    next_free_text: str = ""  # in the clinic's own time zone
    photo: str = ""  # its address on the platform's site, where there is one


@dataclass(frozen=True)
class ListedClinic:
    name: str
    town: str
    portal: str
    tagline: str
    zone: str
    professionals: list[ListedProfessional] = field(default_factory=list)


async def search(
    database: Database,
    query: Search,
    *,
    portal_of: Callable[[str], str],
    now: datetime | None = None,
) -> list[ListedClinic]:
    now = now or utcnow()
    async with database.reading() as db:
        rows = await tenants.listed_tenants(db, town=query.town)
        found = [(TenantInfo.from_row(row), row.town) for row in rows]
    clinics = []
    for tenant, town in found:
        people = await _professionals(database, tenant, query, now=now)
        if people or not (query.field or query.mode or query.within):
            clinics.append(
                ListedClinic(
                    tenant.name,
                    town,
                    portal_of(tenant.slug),
                    tenant.branding.tagline,
                    tenant.timezone,
                    people,
                )
            )
    return clinics


async def _professionals(
    database: Database, tenant: TenantInfo, query: Search, *, now: datetime
) -> list[ListedProfessional]:
    shown = []
    async with database.reading(tenant.id) as db:
        approved = (
            select(Professional)
            .where(Professional.status == ProfessionalStatus.APPROVED.value)
            .order_by(Professional.display_name)
        )
        profiles = list(await db.scalars(approved))
        versions = await photos.photo_versions(db, [profile.id for profile in profiles])
        for profile in profiles:
            if query.field and query.field.casefold() not in profile.field_of_practice.casefold():
                continue
            kinds = list(
                await db.scalars(
                    select(ConsultationType).where(
                        ConsultationType.professional_id == profile.id,
                        ConsultationType.active.is_(True),
                    )
                )
            )
            modes = tuple(sorted({kind.mode for kind in kinds if kind.mode in MODES}))
            if not kinds or (query.mode and query.mode not in modes):
                continue
            shortest = min(kind.duration_minutes for kind in kinds)
            free = await _next_free(db, tenant, profile.id, shortest, now=now)
            if query.within and (free is None or free > now + timedelta(days=int(query.within))):
                continue
            text = (
                f"{free.astimezone(tenant.zone):%a %d %b, %H:%M} ({tenant.timezone})"
                if free
                else ""
            )
            digest = versions.get(profile.id)
            shown.append(
                ListedProfessional(
                    profile.id,
                    profile.display_name,
                    profile.field_of_practice,
                    modes,
                    free,
                    text,
                    photo_address(tenant.slug, profile.id, digest) if digest else "",
                )
            )
    return shown


async def _next_free(
    db: AsyncSession, tenant: TenantInfo, professional_id: uuid.UUID, minutes: int, *, now: datetime
) -> datetime | None:
    """The first start time a consumer could book now, within ``LOOK_AHEAD_DAYS``."""
    first_day = now.astimezone(tenant.zone).date()
    last_day = first_day + timedelta(days=min(LOOK_AHEAD_DAYS, tenant.booking.horizon_days))
    weekly, changes = await rows.diary(db, professional_id, first_day, last_day)
    held = await rows.held(
        db, professional_id, now - timedelta(days=1), now + timedelta(days=LOOK_AHEAD_DAYS + 2)
    )
    found = free_slots(
        zone=tenant.zone,
        first_day=first_day,
        last_day=last_day,
        weekly=weekly,
        changes=changes,
        duration=timedelta(minutes=minutes),
        held=held,
        earliest=now + timedelta(hours=tenant.booking.minimum_notice_hours),
        latest=now + timedelta(days=tenant.booking.horizon_days),
    )
    return min(found) if found else None


def photo_address(slug: str, professional_id: uuid.UUID, digest: str) -> str:
    """Served by the platform itself: a clinic's own address would be another origin."""
    return f"/-/photos/{slug}/{professional_id}?v={digest[:12]}"


async def listed_photo(
    database: Database, slug: str, professional_id: uuid.UUID
) -> photos.ProfessionalPhoto | None:
    """An approved Professional's photo, only from a clinic the directory shows."""
    async with database.reading() as db:
        tenant = await tenants.listed_tenant(db, slug)
    if tenant is None:
        return None
    async with database.reading(tenant.id) as db:
        return await photos.listed_photo(db, professional_id)
