"""The intake questionnaire: completed before a first consultation with a Professional (P03),
seen only by the Professionals the consumer booked, each view in the ledger (P04), the answers
sealed with the tenant's data key (P06).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.accounts.models import Professional, User
from praxis.core.booking.models import Appointment, AppointmentStatus
from praxis.core.consents import services as consents
from praxis.core.consents.kinds import INTAKE_SHARING, Method
from praxis.core.datakeys import DataKeys
from praxis.core.db import utcnow
from praxis.core.errors import InvalidInput, NotAllowed, NotFound
from praxis.core.intake.models import IntakeQuestionnaire, IntakeResponse
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.core.plugins.facade import Facade
from praxis.core.providers.manifest import DataCategory
from praxis.core.providers.questionnaires import (
    SHARING_CONSENT,
    Answers,
    IntakeForm,
    InvalidAnswers,
    InvalidQuestionnaire,
    QuestionnaireProvider,
)
from praxis.core.tenancy import Database
from praxis.core.untrusted import UnreadableJson, read_json
from praxis.tenants.directory import TenantInfo

QUESTIONNAIRE_DEPTH = 64  # FHIR groups nest items two brackets a level: 32 levels of groups
FIELD_PREFIX = "answer."  # form fields are "answer.<linkId>"
ENGAGED = (AppointmentStatus.BOOKED.value, AppointmentStatus.AWAITING_PAYMENT.value)
ACCESS_PURPOSE = "prepare for and provide the booked consultation"
# What every tenant's questionnaire must ask (P03), by linkId, as the default does.
ESSENTIAL_QUESTIONS = {
    "height": "the consumer's height",
    "weight": "the consumer's weight",
    "concerns": "the consumer's concerns",
    SHARING_CONSENT: "consent to share the answers with the Professional booked",
}
ACCESS_BASIS = "health care (UK GDPR Art. 9(2)(h)), shared with the consumer's explicit consent"


@dataclass(frozen=True)
class Desk:
    """What the intake services use: the database, the clinic's providers (its questionnaire
    plugin) and its data keys, for one clinic."""

    database: Database
    providers: Facade
    data_keys: DataKeys
    tenant: TenantInfo


@dataclass(frozen=True)
class Intake:
    row: IntakeQuestionnaire
    form: IntakeForm
    provider: QuestionnaireProvider


def enabled(tenant: TenantInfo) -> bool:
    return bool(tenant.providers.get("questionnaires"))


async def current(desk: Desk) -> Intake:
    """The tenant's active questionnaire, starting from the plugin's default the first time."""
    provider = await desk.providers.questionnaires()
    async with desk.database.reading(desk.tenant.id) as db:
        row = await _active(db)
    if row is None:
        async with desk.database.writing(desk.tenant.id) as db:
            row = await _active(db)
            if row is None:
                resource = provider.default_questionnaire()
                row = _new_row(resource, provider.read_questionnaire(resource), actor=None)
                db.add(row)
                await db.commit()
    return Intake(row, provider.read_questionnaire(row.resource), provider)


async def _active(db: AsyncSession) -> IntakeQuestionnaire | None:
    query = select(IntakeQuestionnaire).where(IntakeQuestionnaire.active.is_(True))
    return await db.scalar(query.order_by(IntakeQuestionnaire.created_at.desc()))


def _new_row(
    resource: dict[str, Any], form: IntakeForm, *, actor: uuid.UUID | None
) -> IntakeQuestionnaire:
    return IntakeQuestionnaire(
        id=uuid.uuid4(),
        resource=resource,
        title=form.title[:200],
        version=form.version[:40],
        active=True,
        created_by=actor,
    )


async def replace_questionnaire(desk: Desk, text: str, *, actor: User) -> IntakeForm:
    """A clinic admin imports a FHIR R4 Questionnaire; it applies to answers given from now."""
    try:
        resource = read_json(text, max_depth=QUESTIONNAIRE_DEPTH)
    except UnreadableJson as exc:
        raise InvalidInput(
            {"resource": f"{exc.message} Paste a FHIR Questionnaire resource."}
        ) from None
    if not isinstance(resource, dict):
        raise InvalidInput({"resource": "Paste one FHIR Questionnaire resource (a JSON object)."})
    provider = await desk.providers.questionnaires()
    try:
        form = provider.read_questionnaire(resource)
    except InvalidQuestionnaire as exc:
        raise InvalidInput({"resource": "; ".join(exc.problems)}) from None
    problems = essentials_missing(form)
    if problems:
        raise InvalidInput({"resource": " ".join(problems)})
    row = _new_row(resource, form, actor=actor.id)
    async with desk.database.writing(desk.tenant.id) as db:
        await db.execute(update(IntakeQuestionnaire).values(active=False))
        db.add(row)
        await db.commit()
    return form


def essentials_missing(form: IntakeForm) -> list[str]:
    """What a tenant's questionnaire lacks of what every one must ask (P03), and of the
    consent without which no Professional could ever read the answers (P04); one sentence
    per problem."""
    by_link = {q.link_id: q for q in form.questions}
    problems = []
    for link, words in ESSENTIAL_QUESTIONS.items():
        question = by_link.get(link)
        if question is None:
            problems.append(
                f"Every intake questionnaire must ask for {words}: "
                f'add a question with linkId "{link}".'
            )
        elif not question.required or question.enable_when:
            problems.append(
                f'The "{link}" question ({words}) must be required and asked of everyone '
                "(no enableWhen)."
            )
    return problems


async def outstanding(
    db: AsyncSession, tenant: TenantInfo, consumer_id: uuid.UUID, professional_id: uuid.UUID
) -> bool:
    """Whether the consumer still has to complete the intake for this Professional."""
    if not enabled(tenant):
        return False
    found = await db.scalar(
        select(IntakeResponse.id).where(
            IntakeResponse.consumer_id == consumer_id,
            IntakeResponse.professional_id == professional_id,
        )
    )
    return found is None


async def answered_for(db: AsyncSession, consumer_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """The Professionals this consumer completed the intake for, by id: whom a sharing
    consent can be about."""
    rows = await db.execute(
        select(Professional.id, Professional.display_name)
        .join(IntakeResponse, IntakeResponse.professional_id == Professional.id)
        .where(IntakeResponse.consumer_id == consumer_id)
        .order_by(Professional.display_name)
    )
    return {professional_id: name for professional_id, name in rows}


def _plain(answers: Answers) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in answers.items()}


async def submit(
    desk: Desk,
    consumer: User,
    appointment_id: uuid.UUID,
    form_data: dict[str, str],
    *,
    notice_version: int | None = None,
) -> None:
    """Check and store the consumer's answers for the Professional of this appointment."""
    tenant = desk.tenant
    intake = await current(desk)
    submitted = {
        key.removeprefix(FIELD_PREFIX): value
        for key, value in form_data.items()
        if key.startswith(FIELD_PREFIX)
    }
    try:
        read = intake.provider.read_answers(intake.form, submitted)
    except InvalidAnswers as exc:
        fields = {FIELD_PREFIX + link: message for link, message in exc.fields.items()}
        raise InvalidInput(fields) from None
    shared = read.answers.get(SHARING_CONSENT) is True
    now = utcnow()
    async with desk.database.writing(tenant.id) as db:
        appointment = await db.scalar(
            select(Appointment).where(
                Appointment.id == appointment_id, Appointment.consumer_id == consumer.id
            )
        )
        if appointment is None:
            raise NotFound("We could not find that appointment.")
        professional = await db.get(Professional, (tenant.id, appointment.professional_id))
        assert professional is not None
        sealed = await desk.data_keys.seal(db, tenant.id, json.dumps(_plain(read.answers)))
        row = await db.scalar(
            select(IntakeResponse).where(
                IntakeResponse.consumer_id == consumer.id,
                IntakeResponse.professional_id == professional.id,
            )
        )
        if row is None:
            row = IntakeResponse(
                id=uuid.uuid4(),
                questionnaire_id=intake.row.id,
                consumer_id=consumer.id,
                professional_id=professional.id,
                answers_sealed=sealed,
                completed_at=now,
            )
            db.add(row)
        else:
            row.questionnaire_id, row.answers_sealed, row.completed_at = (
                intake.row.id,
                sealed,
                now,
            )
        # The sharing question is a consent record, withdrawable later under Account.
        await consents.record(
            db,
            INTAKE_SHARING,
            consents.Whose(consumer.id, scope_id=professional.id),
            given=shared,
            method=Method.PORTAL,
            clinic=professional.display_name,
            actor_id=consumer.id,
            notice_version=notice_version,
            note="given" if shared else "refused",
            recipient_id=professional.id,
            now=now,
        )
        await db.commit()


@dataclass(frozen=True)
class AnswersView:
    form: IntakeForm
    answers: Answers | None  # None: not shared with this Professional
    completed_at: datetime
    resource: dict[str, Any]


async def engaged(db: AsyncSession, professional_id: uuid.UUID, consumer_id: uuid.UUID) -> bool:
    """The consumer booked this Professional (P19): the only way answers reach them."""
    found = await db.scalar(
        select(Appointment.id)
        .where(
            Appointment.professional_id == professional_id,
            Appointment.consumer_id == consumer_id,
            Appointment.status.in_(ENGAGED),
        )
        .limit(1)
    )
    return found is not None


async def answers_for(
    desk: Desk, professional: Professional, consumer_id: uuid.UUID, *, export: bool = False
) -> AnswersView:
    """A booked Professional reads (or downloads) the answers; the ledger records it first."""
    tenant = desk.tenant
    async with desk.database.writing(tenant.id) as db:
        if not await engaged(db, professional.id, consumer_id):
            raise NotAllowed("Only a Professional this consumer has booked can see their answers.")
        row = await db.scalar(
            select(IntakeResponse).where(
                IntakeResponse.consumer_id == consumer_id,
                IntakeResponse.professional_id == professional.id,
            )
        )
        if row is None:
            raise NotFound("The intake questionnaire has not been completed yet.")
        questionnaire = await db.get(IntakeQuestionnaire, (tenant.id, row.questionnaire_id))
        assert questionnaire is not None
        answers = None
        whose = consents.Whose(consumer_id, scope_id=professional.id)
        if await consents.allows(db, INTAKE_SHARING, whose):
            answers = json.loads(await desk.data_keys.unseal(db, tenant.id, row.answers_sealed))
            await ledger.append(
                db,
                Entry(
                    kind=EventKind.EXPORT if export else EventKind.ACCESS,
                    status=Status.RECORDED,
                    recipient=professional.display_name,
                    recipient_kind=RecipientKind.PROFESSIONAL,
                    recipient_id=professional.id,
                    operation="download_intake_answers" if export else "view_intake_answers",
                    categories=[DataCategory.HEALTH.value],
                    purpose=ACCESS_PURPOSE,
                    legal_basis=ACCESS_BASIS,
                    subject_id=consumer_id,
                    actor_id=professional.user_id,
                ),
            )
        await db.commit()
    provider = await desk.providers.questionnaires()
    form = provider.read_questionnaire(questionnaire.resource)
    typed = _typed(form, answers) if answers is not None else None
    return AnswersView(form, typed, row.completed_at, questionnaire.resource)


def _typed(form: IntakeForm, stored: dict[str, Any]) -> Answers:
    """Dates were stored as ISO text; give them back as dates."""
    kinds = {q.link_id: q.type for q in form.questions}
    answers: Answers = {}
    for link, value in stored.items():
        answers[link] = date.fromisoformat(value) if kinds.get(link) == "date" else value
    return answers


async def response_resource(
    desk: Desk, professional: Professional, consumer_id: uuid.UUID
) -> dict[str, Any]:
    """The answers as a FHIR R4 QuestionnaireResponse (a download, recorded as an export)."""
    view = await answers_for(desk, professional, consumer_id, export=True)
    if view.answers is None:
        raise NotAllowed("The consumer did not agree to share their answers with you.")
    provider = await desk.providers.questionnaires()
    return provider.to_response(
        view.resource,
        view.answers,
        subject_reference=f"Patient/{consumer_id}",
        authored=view.completed_at,
    )
