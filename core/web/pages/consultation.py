"""One consultation, from the Professional's side: the intake answers (each view in the
ledger), the host link to the video room in time, and who joined."""

from __future__ import annotations

import json
import uuid

from starlette.responses import RedirectResponse, Response

from praxis.core.accounts.models import Professional
from praxis.core.accounts.professionals import profile_of
from praxis.core.booking import services as booking
from praxis.core.booking.models import Appointment
from praxis.core.errors import NotAllowed, NotFound
from praxis.core.intake import services as intake
from praxis.core.video import services as video
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
PRO = Access.PROFESSIONAL


async def _mine(ctx: Ctx) -> tuple[Professional, Appointment]:
    profile = await profile_of(ctx.db, ctx.me)
    if profile is None:
        raise NotFound("Your Professional profile is missing; please contact the clinic.")
    appointment_id: uuid.UUID = ctx.request.path_params["appointment_id"]
    return profile, await booking.professional_appointment(ctx.db, profile, appointment_id)


@pages.page("/workspace/appointments/{appointment_id:uuid}", access=PRO)
async def consultation(ctx: Ctx) -> Response:
    profile, found = await _mine(ctx)
    due = await intake.outstanding(ctx.db, ctx.tenant, found.consumer_id, profile.id)
    link = await video.room_link(ctx.db, ctx.rt.keyring, found, "host", now=ctx.now)
    meeting = await video.meeting_of(ctx.db, found.id)
    return render(
        ctx,
        "workspace/consultation.html",
        a=found,
        intake_due=due,
        link=link,
        meeting=meeting,
        intake_on=intake.enabled(ctx.tenant),
        title="Consultation",
    )


@pages.page("/workspace/appointments/{appointment_id:uuid}/intake", access=PRO)
async def answers(ctx: Ctx) -> Response:
    profile, found = await _mine(ctx)
    view = await intake.answers_for(ctx.intake, profile, found.consumer_id)
    return render(
        ctx,
        "workspace/intake.html",
        a=found,
        view=view,
        title="Questionnaire answers",
    )


@pages.page("/workspace/appointments/{appointment_id:uuid}/intake.json", access=PRO)
async def answers_fhir(ctx: Ctx) -> Response:
    profile, found = await _mine(ctx)
    try:
        resource = await intake.response_resource(ctx.intake, profile, found.consumer_id)
    except NotAllowed as exc:
        return redirect(ctx, f"/workspace/appointments/{found.id}", notice=exc.message)
    return Response(
        json.dumps(resource, indent=2),
        media_type="application/fhir+json",
        headers={
            "Content-Disposition": 'attachment; filename="questionnaire-response.json"',
            "Cache-Control": "no-store",
        },
    )


@pages.page("/workspace/appointments/{appointment_id:uuid}/host", access=PRO)
async def host(ctx: Ctx) -> Response:
    _profile, found = await _mine(ctx)
    link = await video.room_link(ctx.db, ctx.rt.keyring, found, "host", now=ctx.now)
    if link.url is None:
        return redirect(
            ctx, f"/workspace/appointments/{found.id}", notice="The video room is not open yet."
        )
    return RedirectResponse(link.url, status_code=303)
