"""Receipts: the patient's for their own appointment, and any for the clinic's admins. Printable
HTML; "Print" in any browser also saves it as a PDF."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from praxis.core.payments import receipts
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, render

pages = Pages()


def _id(ctx: Ctx, name: str) -> uuid.UUID:
    value: uuid.UUID = ctx.request.path_params[name]
    return value


def _page(ctx: Ctx, receipt: receipts.Receipt, back: str) -> Response:
    return render(
        ctx,
        "portal/receipt.html",
        receipt=receipt,
        controller=ctx.tenant.controller,
        back=back,
        title=f"Receipt {receipt.number}",
    )


@pages.page("/appointments/{appointment_id:uuid}/receipt", access=Access.CONSUMER)
async def patient_receipt(ctx: Ctx) -> Response:
    appointment_id = _id(ctx, "appointment_id")
    receipt = await receipts.for_patient(ctx.db, ctx.me.id, appointment_id)
    return _page(ctx, receipt, f"/appointments/{appointment_id}")


@pages.page("/admin/payments/{payment_id:uuid}/receipt", access=Access.CLINIC_ADMIN)
async def staff_receipt(ctx: Ctx) -> Response:
    receipt = await receipts.for_staff(ctx.db, _id(ctx, "payment_id"))
    return _page(ctx, receipt, "/admin/payments")
