"""Intake questionnaires (FHIR JSON) and the answers given, sealed with the tenant's key."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.db import Base, Identified, utcnow
from praxis.core.tenancy import TenantScoped


class IntakeQuestionnaire(TenantScoped, Identified, Base):
    __tablename__ = "intake_questionnaires"
    __table_args__ = (Index(None, "tenant_id", "active"),)

    resource: Mapped[dict[str, Any]]  # the FHIR R4 Questionnaire as authored
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class IntakeResponse(TenantScoped, Identified, Base):
    """A consumer's answers for one Professional. Special-category data: sealed (P06)."""

    __tablename__ = "intake_responses"
    __table_args__ = (
        UniqueConstraint("tenant_id", "consumer_id", "professional_id"),
        ForeignKeyConstraint(
            ["tenant_id", "consumer_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "questionnaire_id"],
            ["intake_questionnaires.tenant_id", "intake_questionnaires.id"],
        ),
    )

    questionnaire_id: Mapped[uuid.UUID]
    consumer_id: Mapped[uuid.UUID]
    professional_id: Mapped[uuid.UUID]
    answers_sealed: Mapped[str] = mapped_column(Text)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
