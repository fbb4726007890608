"""Clinic admins change the portal's look: colours that stay readable, a tagline, a logo."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import images
from praxis.core.accounts.fields import Line
from praxis.core.branding import contrast
from praxis.core.branding.models import ClinicLogo
from praxis.core.errors import InvalidInput, NotFound
from praxis.tenants.models import Tenant
from praxis.tenants.schema import Colour

LOGO_PATH = "/-/logo"
LOGO_SIDE = 256  # shown at 32 px; kept sharp on high-density screens


class BrandingForm(BaseModel):
    primary_colour: Colour
    accent_colour: Colour
    tagline: Annotated[Line, Field(max_length=200)] = ""

    def check(self) -> None:
        """InvalidInput when white text on the colours would be unreadable."""
        found = contrast.problems(self.primary_colour, self.accent_colour)
        if found:
            raise InvalidInput(found, "These colours would make the portal hard to read.")


async def _tenant(db: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    row = await db.get(Tenant, tenant_id)
    if row is None:
        raise NotFound()
    return row


def _with(branding: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**branding, **changes}  # a new dict: the JSON column sees the change


async def save_colours(db: AsyncSession, tenant_id: uuid.UUID, form: BrandingForm) -> None:
    form.check()
    row = await _tenant(db, tenant_id)
    row.branding = _with(
        row.branding,
        primary_colour=form.primary_colour,
        accent_colour=form.accent_colour,
        tagline=form.tagline,
    )


async def save_logo(db: AsyncSession, tenant_id: uuid.UUID, data: bytes) -> None:
    try:
        logo = images.logo(data, side=LOGO_SIDE)
    except images.ImageRefused as exc:
        raise InvalidInput({"logo": str(exc)}) from None
    stored = await db.scalar(select(ClinicLogo))
    if stored is None:
        db.add(ClinicLogo(tenant_id=tenant_id, png=logo.data, digest=logo.digest))
    else:
        stored.png, stored.digest = logo.data, logo.digest
    row = await _tenant(db, tenant_id)
    row.branding = _with(row.branding, logo_url=f"{LOGO_PATH}?v={logo.version}")


async def remove_logo(db: AsyncSession, tenant_id: uuid.UUID) -> None:
    stored = await db.scalar(select(ClinicLogo))
    if stored is not None:
        await db.delete(stored)
    row = await _tenant(db, tenant_id)
    row.branding = _with(row.branding, logo_url=None)


async def logo(db: AsyncSession) -> ClinicLogo | None:
    return await db.scalar(select(ClinicLogo))
