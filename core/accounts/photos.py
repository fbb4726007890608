"""A Professional's photo, shown beside their name on the portal and in the public directory.

It is the Professional's personal data: uploaded by them (or a clinic admin for them), served
only while they are approved, and deleted with their profile (the foreign key cascades), when
they leave the clinic's staff, and with the whole clinic when it leaves the platform.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, LargeBinary, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core import images
from praxis.core.accounts.models import Professional, ProfessionalStatus
from praxis.core.db import Base, utcnow
from praxis.core.errors import InvalidInput
from praxis.core.tenancy import TenantScoped

SIDE = 320  # shown at up to 160 px; sharp on high-density screens


class ProfessionalPhoto(TenantScoped, Base):
    """The JPEG made of the upload; one per Professional."""

    __tablename__ = "professional_photos"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "professional_id"],
            ["professionals.tenant_id", "professionals.id"],
            ondelete="CASCADE",
        ),
    )

    professional_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    image: Mapped[bytes] = mapped_column(LargeBinary)
    media_type: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def address(professional_id: uuid.UUID, digest: str) -> str:
    """The photo's address on the clinic's portal; the version lets browsers keep it."""
    return f"/-/photos/{professional_id}?v={digest[:12]}"


async def save_photo(db: AsyncSession, professional: Professional, data: bytes) -> None:
    """Keep a new photo (the caller commits); what is not a small image: InvalidInput."""
    try:
        picture = images.portrait(data, side=SIDE)
    except images.ImageRefused as exc:
        raise InvalidInput({"photo": str(exc)}) from None
    stored = await photo_of(db, professional.id)
    if stored is None:
        stored = ProfessionalPhoto(professional_id=professional.id)
        db.add(stored)
    stored.image, stored.media_type, stored.digest = (
        picture.data,
        picture.media_type,
        picture.digest,
    )


async def remove_photo(db: AsyncSession, professional_id: uuid.UUID) -> None:
    """Delete the photo, if there is one (the caller commits)."""
    await db.execute(
        delete(ProfessionalPhoto).where(ProfessionalPhoto.professional_id == professional_id)
    )


async def photo_of(db: AsyncSession, professional_id: uuid.UUID) -> ProfessionalPhoto | None:
    """Whatever the Professional's status: for their own page and the clinic's admins."""
    return await db.scalar(
        select(ProfessionalPhoto).where(ProfessionalPhoto.professional_id == professional_id)
    )


async def listed_photo(db: AsyncSession, professional_id: uuid.UUID) -> ProfessionalPhoto | None:
    """The photo the public may see: only an approved Professional's."""
    return await db.scalar(
        select(ProfessionalPhoto)
        .join(Professional, Professional.id == ProfessionalPhoto.professional_id)
        .where(
            ProfessionalPhoto.professional_id == professional_id,
            Professional.status == ProfessionalStatus.APPROVED.value,
        )
    )


async def photo_versions(
    db: AsyncSession, professional_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Each given Professional's photo digest (those without a photo are left out); reads no
    image, so a list page stays cheap."""
    wanted = list(professional_ids)
    if not wanted:
        return {}
    rows = await db.execute(
        select(ProfessionalPhoto.professional_id, ProfessionalPhoto.digest).where(
            ProfessionalPhoto.professional_id.in_(wanted)
        )
    )
    return {professional_id: digest for professional_id, digest in rows}


async def addresses(
    db: AsyncSession, professional_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Each given Professional's photo address on the portal, where they have a photo."""
    versions = await photo_versions(db, professional_ids)
    return {pro_id: address(pro_id, digest) for pro_id, digest in versions.items()}
