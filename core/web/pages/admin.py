"""Clinic admin: approve Professionals, see and export the clinic's appointments."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time

from starlette.responses import Response

from praxis.core.accounts import professionals as directory
from praxis.core.accounts.models import ProfessionalStatus
from praxis.core.booking import services as booking
from praxis.core.notifications import applications
from praxis.core.privacy import requests, staff_exports
from praxis.core.web.context import Access, Ctx
from praxis.core.web.rendering import Clock
from praxis.core.web.routing import Pages, redirect, render

pages = Pages()
ADMIN = Access.CLINIC_ADMIN


@pages.page("/admin", access=ADMIN)
async def dashboard(ctx: Ctx) -> Response:
    pending = await directory.professionals_by_status(ctx.db, ProfessionalStatus.PENDING)
    today = ctx.now.astimezone(ctx.tenant.zone).date()
    due = [q for q in await requests.queue(ctx.db, today) if q.overdue or q.due_soon]
    return render(ctx, "admin/index.html", pending=pending, requests_due=len(due), title="Admin")


@pages.page("/admin/professionals", access=ADMIN)
async def professionals(ctx: Ctx) -> Response:
    groups = {
        status: await directory.professionals_by_status(ctx.db, status)
        for status in ProfessionalStatus
    }
    return render(ctx, "admin/professionals.html", groups=groups, title="Professionals")


async def _decide(ctx: Ctx, *, approve: bool) -> Response:
    professional_id = ctx.request.path_params["professional_id"]
    applications.tell_applicant(ctx.db, ctx.tenant, professional_id, approved=approve)
    pro = await directory.decide(ctx.db, professional_id, approve=approve, by=ctx.me)
    verb = "approved: they now appear on the portal" if approve else "declined"
    return redirect(ctx, "/admin/professionals", notice=f"{pro.display_name} is {verb}.")


@pages.page("/admin/professionals/{professional_id:uuid}/approve", methods=["POST"], access=ADMIN)
async def approve(ctx: Ctx) -> Response:
    return await _decide(ctx, approve=True)


@pages.page("/admin/professionals/{professional_id:uuid}/reject", methods=["POST"], access=ADMIN)
async def reject(ctx: Ctx) -> Response:
    return await _decide(ctx, approve=False)


def _start_of_today(ctx: Ctx) -> datetime:
    return datetime.combine(booking.today_in(ctx.tenant), time(0, 0), ctx.tenant.zone)


@pages.page("/admin/appointments", access=ADMIN)
async def appointments(ctx: Ctx) -> Response:
    found = await booking.clinic_appointments(ctx.db, since=_start_of_today(ctx))
    return render(ctx, "admin/appointments.html", appointments=found, title="Appointments")


@pages.page("/admin/appointments.csv", access=ADMIN)
async def appointments_csv(ctx: Ctx) -> Response:
    found = await booking.clinic_appointments(ctx.db, since=_start_of_today(ctx))
    await staff_exports.record(
        ctx.rt.database,
        ctx.tenant,
        actor_id=ctx.me.id,
        operation="appointments_csv",
        categories=staff_exports.APPOINTMENTS,
        what=f"{len(found)} appointments",
    )
    clock = Clock(ctx.tenant)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "appointment_id",
            "starts_at",
            "ends_at",
            "professional",
            "consumer",
            "consultation",
            "mode",
            "status",
        ]
    )
    for a in found:
        writer.writerow(
            [
                a.id,
                clock.local(a.starts_at).isoformat(),
                clock.local(a.ends_at).isoformat(),
                _cell(a.professional.display_name),
                _cell(a.consumer.full_name),
                _cell(a.consultation_type.name),
                a.mode,
                a.status,
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="appointments.csv"',
            "Cache-Control": "no-store",
        },
    )


def _cell(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; quote them as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
