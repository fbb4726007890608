"""The front desk (clinic admins and front desk): find patients, keep a record for someone
who phones, and book, move and cancel for them through the booking services. Each booking
names the member of staff in the ledger; overriding the booking policy is a box they tick,
recorded there too."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from starlette.responses import Response

from praxis.core.accounts import professionals as directory
from praxis.core.booking import diary
from praxis.core.booking import services as booking
from praxis.core.booking.forms import BookingRequest
from praxis.core.desk import claims, patients
from praxis.core.errors import Conflict, InvalidInput, NotAllowed
from praxis.core.web.context import Access, Ctx
from praxis.core.web.rendering import Clock
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
DESK = Access.FRONT_DESK
LABELS = {
    "full_name": "Full name",
    "email": "Email address",
    "phone": "Phone number",
    "consultation": "Consultation",
    "day": "Date",
    "at": "Time",
    "__all__": "",
}


@pages.page("/desk", access=DESK)
async def patient_list(ctx: Ctx) -> Response:
    words = ctx.request.query_params.get("q", "")
    try:
        page = int(ctx.request.query_params.get("page", "1"))
    except ValueError:
        page = 1
    found = await patients.search(ctx.db, words, page=min(max(page, 1), 10_000))
    return render(
        ctx,
        "desk/patients.html",
        title="Patients",
        found=found,
        words=words,
        has_account=patients.has_account,
    )


@pages.page("/desk/patients/new", methods=["GET", "POST"], access=DESK)
async def new_patient(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        return render(ctx, "desk/new_patient.html", title="New patient record")
    form = ctx.form
    try:
        record = await patients.create_record(
            ctx.db,
            full_name=form.get("full_name", ""),
            email=form.get("email", ""),
            phone=form.get("phone", ""),
            region=ctx.region,
        )
    except InvalidInput as exc:
        return render(
            ctx,
            "desk/new_patient.html",
            status=422,
            title="New patient record",
            errors=exc.fields,
            summary=exc.message,
            values={k: v for k, v in form.items() if k != "csrf_token"},
            field_labels=LABELS,
        )
    await ctx.db.commit()
    notice = f"A record for {record.full_name} is kept. They have no portal account."
    return redirect(ctx, f"/desk/patients/{record.id}", notice=notice)


async def _choices(ctx: Ctx) -> list[tuple[str, str]]:
    """What can be booked: each approved Professional's active consultation types."""
    found = []
    for pro in await directory.approved_professionals(ctx.db):
        for kind in await diary.consultation_types(ctx.db, pro.id):
            label = f"{pro.display_name}: {kind.name}, {kind.duration_minutes} minutes"
            found.append((f"{pro.id}/{kind.id}", label))
    return found


async def _patient_page(ctx: Ctx, *, status: int = 200, **extra: Any) -> Response:
    person = await patients.patient(ctx.db, ctx.request.path_params["person_id"])
    appointments = await booking.consumer_appointments(ctx.db, person.id)
    return render(
        ctx,
        "desk/patient.html",
        status=status,
        title=person.full_name,
        person=person,
        has_account=patients.has_account(person),
        appointments=appointments,
        live=booking.LIVE,
        choices=await _choices(ctx),
        field_labels=LABELS,
        **extra,
    )


@pages.page("/desk/patients/{person_id:uuid}", access=DESK)
async def patient_page(ctx: Ctx) -> Response:
    return await _patient_page(ctx)


def _moment(ctx: Ctx) -> datetime:
    """The date and time typed, in the clinic's time zone; InvalidInput on the field."""
    problems = {}
    try:
        day = date.fromisoformat(ctx.form.get("day", ""))
    except ValueError:
        problems["day"] = "Enter a date, like 2026-12-24."
    try:
        at = time.fromisoformat(ctx.form.get("at", ""))
    except ValueError:
        problems["at"] = "Enter a time, like 14:30."
    if problems:
        raise InvalidInput(problems)
    return datetime.combine(day, at.replace(second=0, microsecond=0), ctx.tenant.zone)


async def _refused(ctx: Ctx, exc: Exception, field: str = "at") -> Response:
    if ctx.user is not None:
        await ctx.db.refresh(ctx.user)  # a lost race rolled back: who is signed in, again
    values = {k: v for k, v in ctx.form.items() if k != "csrf_token"}
    if isinstance(exc, InvalidInput):
        return await _patient_page(
            ctx, status=422, errors=exc.fields, summary=exc.message, values=values
        )
    status = 409 if isinstance(exc, Conflict) else 403
    message = str(exc.args[0]) if exc.args else "That did not work."
    return await _patient_page(
        ctx, status=status, errors={field: message}, summary=message, values=values
    )


def _override(ctx: Ctx) -> bool:
    return ctx.form.get("override") == "yes"


@pages.page("/desk/patients/{person_id:uuid}/book", methods=["POST"], access=DESK)
async def book(ctx: Ctx) -> Response:
    person = await patients.patient(ctx.db, ctx.request.path_params["person_id"])
    pro_id, _, type_id = ctx.form.get("consultation", "").partition("/")
    try:
        try:
            chosen = (uuid.UUID(pro_id), uuid.UUID(type_id))
        except ValueError:
            raise InvalidInput({"consultation": "Choose a consultation."}) from None
        request = BookingRequest(
            professional_id=chosen[0], consultation_type_id=chosen[1], starts_at=_moment(ctx)
        )
        booked = await booking.book(
            ctx.db, ctx.tenant, person, request, now=ctx.now, by=ctx.me, override=_override(ctx)
        )
    except (InvalidInput, Conflict, NotAllowed) as exc:
        return await _refused(ctx, exc)
    when = Clock(ctx.tenant).when(booked.starts_at)
    notice = f"Booked for {person.full_name}: {when}."
    return redirect(ctx, f"/desk/patients/{person.id}", notice=notice)


APPOINTMENT = "/desk/patients/{person_id:uuid}/appointments/{appointment_id:uuid}"


@pages.page(f"{APPOINTMENT}/reschedule", methods=["POST"], access=DESK)
async def reschedule(ctx: Ctx) -> Response:
    params = ctx.request.path_params
    person = await patients.patient(ctx.db, params["person_id"])
    await booking.consumer_appointment(ctx.db, person.id, params["appointment_id"])  # else 404
    try:
        moved = await booking.reschedule(
            ctx.db,
            ctx.tenant,
            person,
            params["appointment_id"],
            _moment(ctx),
            now=ctx.now,
            by=ctx.me,
            override=_override(ctx),
        )
    except (InvalidInput, Conflict, NotAllowed) as exc:
        return await _refused(ctx, exc)
    notice = f"Moved to {Clock(ctx.tenant).when(moved.starts_at)}."
    return redirect(ctx, f"/desk/patients/{person.id}", notice=notice)


@pages.page(f"{APPOINTMENT}/cancel", methods=["POST"], access=DESK)
async def cancel(ctx: Ctx) -> Response:
    params = ctx.request.path_params
    person = await patients.patient(ctx.db, params["person_id"])
    await booking.consumer_appointment(ctx.db, person.id, params["appointment_id"])  # else 404
    try:
        await booking.cancel_by_consumer(
            ctx.db,
            ctx.tenant,
            person,
            params["appointment_id"],
            now=ctx.now,
            by=ctx.me,
            override=_override(ctx),
        )
    except (Conflict, NotAllowed) as exc:
        return await _refused(ctx, exc, field="__all__")
    return redirect(ctx, f"/desk/patients/{person.id}", notice="The appointment is cancelled.")


@pages.page("/desk/patients/{person_id:uuid}/claim", methods=["POST"], access=DESK)
async def invite_to_claim(ctx: Ctx) -> Response:
    person = await patients.patient(ctx.db, ctx.request.path_params["person_id"])
    try:
        claims.invite(ctx.db, ctx.tenant, person, by=ctx.me, now=ctx.now)
    except (InvalidInput, Conflict) as exc:
        return await _refused(ctx, exc, field="__all__")
    await ctx.db.commit()
    notice = f"{person.full_name} was emailed a link to choose a username and password."
    return redirect(ctx, f"/desk/patients/{person.id}", notice=notice)
