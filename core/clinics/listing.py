"""The public directory on the platform's bare domain: clinics that opted in, and their
approved Professionals, searchable by field of practice, consultation mode, town and how soon
one is free. Each links to the clinic's own portal, where booking happens. Nothing of any
clinic's patients is read here; a clinic that has not opted in is never read at all."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts import photos
from praxis.core.accounts.models import Professional, ProfessionalStatus
from praxis.core.booking import services as booking
from praxis.core.booking.models import ConsultationMode, ConsultationType
from praxis.core.caches import Refreshed
from praxis.core.db import utcnow
from praxis.core.tenancy import Database
from praxis.tenants import services as tenants
from praxis.tenants.directory import TenantInfo

LOOK_AHEAD_DAYS = 14  # how far "next free time" looks
SOON_DAYS = 2  # looked at first
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


_READINGS = itertools.count(1)


@dataclass(frozen=True)
class Directory:
    """Every listed clinic with all its bookable Professionals, as read at one moment."""

    clinics: tuple[ListedClinic, ...]
    # The first moment one of its next free times is no longer bookable (past, or inside
    # the clinic's minimum notice): the snapshot is read again then, never shown stale.
    stale_at: datetime | None
    # Names this reading among all of the process's (what is rendered from it is kept by it).
    number: int = field(default_factory=lambda: next(_READINGS))


class Listings:
    """The public directory's snapshot, read at most once every ``seconds`` per process (and
    one reading at a time), each search then filtered from it in memory. A clinic that opts
    out, is suspended or leaves is gone at the next reading; one that saves its listing in
    this process is read again at once (``forget``). ``seconds`` 0: read on every search."""

    def __init__(self, *, seconds: float) -> None:
        self.seconds = seconds
        self._kept: Refreshed[Directory] = Refreshed(period=timedelta(seconds=seconds))

    async def current(
        self, database: Database, *, portal_of: Callable[[str], str], now: datetime
    ) -> Directory:
        """The snapshot to search now: the one kept, or a new reading."""

        async def read(at: datetime) -> Directory:
            return await read_directory(database, portal_of=portal_of, now=at)

        if self.seconds <= 0:
            return await read(now)
        return await self._kept.get(now, read, stale_at=lambda found: found.stale_at)

    async def search(
        self,
        database: Database,
        query: Search,
        *,
        portal_of: Callable[[str], str],
        now: datetime | None = None,
    ) -> list[ListedClinic]:
        now = now or utcnow()
        directory = await self.current(database, portal_of=portal_of, now=now)
        return matching(directory, query, now=now)

    def forget(self) -> None:
        self._kept.forget()


def matching(directory: Directory, query: Search, *, now: datetime) -> list[ListedClinic]:
    """The clinics and Professionals of the snapshot that this search asks for."""
    town = query.town.casefold()
    narrowed = bool(query.field or query.mode or query.within)
    found = []
    for clinic in directory.clinics:
        if town and town not in clinic.town.casefold():
            continue
        if not narrowed:  # every Professional: the clinic as read (the common case: fast)
            found.append(clinic)
            continue
        people = [person for person in clinic.professionals if _wanted(person, query, now)]
        if len(people) == len(clinic.professionals) and people:
            found.append(clinic)
        elif people:
            found.append(replace(clinic, professionals=people))
    return found


def _wanted(person: ListedProfessional, query: Search, now: datetime) -> bool:
    if query.field and query.field.casefold() not in person.field_of_practice.casefold():
        return False
    if query.mode and query.mode not in person.modes:
        return False
    if not query.within:
        return True
    free = person.next_free
    return free is not None and now <= free <= now + timedelta(days=int(query.within))


async def read_directory(
    database: Database, *, portal_of: Callable[[str], str], now: datetime
) -> Directory:
    """Every listed clinic and its bookable Professionals, with their next free times."""
    async with database.reading() as db:
        found = [(TenantInfo.from_row(row), row.town) for row in await tenants.listed_tenants(db)]
    clinics, stale = [], []
    for tenant, town in found:
        people = await _professionals(database, tenant, now=now)
        notice = timedelta(hours=tenant.booking.minimum_notice_hours)
        stale += [person.next_free - notice for person in people if person.next_free]
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
    return Directory(tuple(clinics), min(stale, default=None))


async def _professionals(
    database: Database, tenant: TenantInfo, *, now: datetime
) -> list[ListedProfessional]:
    """The clinic's approved Professionals who offer at least one consultation."""
    shown = []
    async with database.reading(tenant.id) as db:
        approved = (
            select(Professional)
            .where(Professional.status == ProfessionalStatus.APPROVED.value)
            .order_by(Professional.display_name)
        )
        profiles = list(await db.scalars(approved))
        ids = [profile.id for profile in profiles]
        versions = await photos.photo_versions(db, ids)
        offered = await db.scalars(
            select(ConsultationType).where(
                ConsultationType.professional_id.in_(ids), ConsultationType.active.is_(True)
            )
        )
        kinds: dict[uuid.UUID, list[ConsultationType]] = {}
        for kind in offered:
            kinds.setdefault(kind.professional_id, []).append(kind)
        for profile in profiles:
            theirs = kinds.get(profile.id, [])
            if not theirs:
                continue
            modes = tuple(sorted({kind.mode for kind in theirs if kind.mode in MODES}))
            shortest = min(kind.duration_minutes for kind in theirs)
            free = await _next_free(db, tenant, profile.id, shortest, now=now)
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
    """The first start a consumer could book now within ``LOOK_AHEAD_DAYS``, as the portal's
    "next available" finds it: the next ``SOON_DAYS`` first (where most have one), then the
    rest, so a reading of the whole directory computes days of slots, not weeks."""
    today = now.astimezone(tenant.zone).date()
    for skip, days in ((0, SOON_DAYS), (SOON_DAYS, LOOK_AHEAD_DAYS - SOON_DAYS)):
        found = await booking.first_free(
            db,
            tenant,
            professional_id,
            minutes,
            from_day=today + timedelta(days=skip),
            now=now,
            within_days=days,
        )
        if found is not None:
            return found
    return None


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
