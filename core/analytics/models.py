"""What is counted: one row per clinic, day and page; nothing about any visitor."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base
from praxis.core.tenancy import TenantScoped

PATH_MAX = 200


class VisitCount(TenantScoped, Base):
    """Views of one page on one day (the clinic's own calendar day), and how many visitors
    began their day there: summed over the pages, the day's visitors."""

    __tablename__ = "visit_counts"

    day: Mapped[date] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(PATH_MAX), primary_key=True)  # ids replaced
    views: Mapped[int] = mapped_column(default=0)
    visitors: Mapped[int] = mapped_column(default=0)
