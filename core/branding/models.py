"""The clinic's logo, as the PNG we made of the upload."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, utcnow
from praxis.core.tenancy import TenantScoped


class ClinicLogo(TenantScoped, Base):
    __tablename__ = "clinic_logos"

    png: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
