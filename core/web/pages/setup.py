"""Clinic admin set-up: which provider serves each kind and its settings, the clinic's payment
account, the intake questionnaire (FHIR import and export), and jobs that gave up."""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from praxis.core import outbox
from praxis.core.accounts.fields import Email, Phone, parse
from praxis.core.errors import InvalidInput, NotFound, ProviderNotReady
from praxis.core.intake import services as intake
from praxis.core.payments import receipts
from praxis.core.payments import services as payments
from praxis.core.payments.models import PaymentAccount
from praxis.core.plugins import trials
from praxis.core.plugins.registry import webhook_url
from praxis.core.providers.common import PluginKind, ProviderError
from praxis.core.providers.kinds import KINDS
from praxis.core.web.context import Access, Ctx
from praxis.core.web.routing import Pages, error_page, redirect, render
from praxis.tenants.services import choose_provider

pages = Pages()
ADMIN = Access.CLINIC_ADMIN


def _kind(ctx: Ctx) -> PluginKind:
    wanted = str(ctx.request.path_params["kind"])
    found = next((name for name in KINDS if name == wanted), None)
    if found is None:
        raise NotFound("There is no such kind of provider.")
    return found


async def _providers_page(
    ctx: Ctx,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    typed: dict[str, dict[str, str]] | None = None,
    trial: dict[str, str] | None = None,  # kind, and the test form's error or outcome
) -> Response:
    rt, tenant = ctx.rt, ctx.tenant
    store = rt.provider_settings
    sections = []
    for kind in KINDS.values():
        chosen = rt.registry.chosen(tenant, kind.name)
        row = await store.row(ctx.db, chosen.name) if chosen else None
        sections.append(
            {
                "kind": kind.name,
                "words": kind.words,
                "options": rt.plugins.usable(kind.name),
                "unavailable": rt.plugins.disabled_of(kind.name),
                "chosen": chosen,
                "fields": store.form(
                    chosen.settings_model, row, "clinic", (typed or {}).get(kind.name)
                )
                if chosen
                else [],
                "missing": store.status(chosen.settings_model, row, tenant.id) if chosen else [],
                "errors": (errors or {}).get(kind.name, {}),
                "webhook": webhook_url(rt.settings, tenant, chosen.name) if chosen else "",
                "trial": TRIALS.get(kind.name),
            }
        )
    status = 422 if errors or (trial and trial.get("error")) else 200
    return render(
        ctx,
        "admin/providers.html",
        status=status,
        sections=sections,
        trial=trial or {},
        admin_email=ctx.me.email,
        title="Providers",
    )


@pages.page("/admin/providers", access=ADMIN)
async def providers(ctx: Ctx) -> Response:
    return await _providers_page(ctx)


@pages.page("/admin/providers/{kind}", methods=["POST"], access=ADMIN)
async def choose(ctx: Ctx) -> Response:
    kind = _kind(ctx)
    plugin = ctx.form.get("plugin", "")
    usable = {m.name for m in ctx.rt.plugins.usable(kind)}
    if plugin and plugin not in usable:
        return redirect(ctx, "/admin/providers", notice="Choose one of the providers listed.")
    await choose_provider(ctx.db, ctx.tenant.id, kind, plugin or None)
    ctx.rt.directory.forget_all()
    word = KINDS[kind].words
    notice = (
        f"{word.capitalize()}: now provided by {plugin}."
        if plugin
        else f"{word.capitalize()}: off."
    )
    return redirect(ctx, "/admin/providers", notice=notice)


@pages.page("/admin/providers/{kind}/settings", methods=["POST"], access=ADMIN)
async def save_settings(ctx: Ctx) -> Response:
    kind = _kind(ctx)
    chosen = ctx.rt.registry.chosen(ctx.tenant, kind)
    if chosen is None:
        return redirect(ctx, "/admin/providers", notice="Choose a provider first.")
    submitted = {k: v for k, v in ctx.form.items() if k != "csrf_token"}
    errors = await ctx.rt.provider_settings.save(
        ctx.db,
        tenant_id=ctx.tenant.id,
        plugin=chosen.name,
        model=chosen.settings_model,
        audience="clinic",
        submitted=submitted,
        actor_id=ctx.me.id,
    )
    if errors:
        # Nothing was written (the store refuses before changing anything), and the request
        # ends without a commit. A rollback here would expire the signed-in user the page
        # still renders (a 500 instead of the form with its errors).
        return await _providers_page(ctx, errors={kind: errors}, typed={kind: submitted})
    await ctx.db.commit()
    ctx.rt.registry.forget(ctx.tenant.id)
    return redirect(ctx, "/admin/providers", notice=f"{chosen.title}: settings saved.")


class _TextTo(BaseModel):
    to: Phone


class _EmailTo(BaseModel):
    to: Email


TRIALS = {"sms": "Send a test text", "email": "Send a test email", "video": "Make a test room"}


@pages.page("/admin/providers/{kind}/test", methods=["POST"], access=ADMIN)
async def send_test(ctx: Ctx) -> Response:
    """The admin's "send a test": through the facade, so in the ledger like any disclosure."""
    kind = _kind(ctx)
    if kind not in TRIALS:
        raise NotFound("There is no test for this kind of provider.")
    try:
        if kind == "sms":
            number = parse(_TextTo, ctx.form, region=ctx.region).to
            outcome = await trials.text(ctx.providers, number, ctx.tenant.name)
        elif kind == "email":
            address = parse(_EmailTo, ctx.form).to
            outcome = await trials.email(ctx.providers, address, ctx.tenant.name)
        else:
            outcome = await trials.room(ctx.providers, ctx.me.id, ctx.now)
    except InvalidInput as exc:
        return await _providers_page(ctx, trial={"kind": kind, "error": exc.fields["to"]})
    except trials.TrialFailed as exc:
        return await _providers_page(ctx, trial={"kind": kind, "failed": exc.message})
    return redirect(ctx, "/admin/providers", notice=outcome)


@pages.page("/admin/payments", access=ADMIN)
async def payment_account(ctx: Ctx) -> Response:
    chosen = ctx.rt.registry.chosen(ctx.tenant, "payments")
    account: PaymentAccount | None = None
    if chosen is not None:
        account = await payments.clinic_account(ctx.db, chosen.name)
    return render(
        ctx,
        "admin/payments.html",
        chosen=chosen,
        account=account,
        link=None,
        held=await payments.held_payments(ctx.db),
        recent=await receipts.recent(ctx.db),
        receipt_number=receipts.number_of,
        title="Payments",
    )


@pages.page("/admin/payments/connect", methods=["POST"], access=ADMIN)
async def connect(ctx: Ctx) -> Response:
    """Opens (or continues) the provider's onboarding for the clinic's own account."""
    try:
        link = await payments.connect_clinic(
            ctx.rt.database, ctx.providers, ctx.tenant, site_url=ctx.site_url
        )
    except ProviderNotReady as exc:
        return error_page(ctx, 409, "Payments are not set up", exc.message)
    except ProviderError as exc:
        return error_page(ctx, 503, "The payment provider did not answer", exc.reason)
    chosen = ctx.rt.registry.chosen(ctx.tenant, "payments")
    return render(
        ctx, "admin/payments.html", chosen=chosen, account=None, link=link, title="Payments"
    )


@pages.page("/admin/questionnaire", access=ADMIN)
async def questionnaire(ctx: Ctx) -> Response:
    return await _questionnaire_page(ctx)


async def _questionnaire_page(ctx: Ctx, **extra: Any) -> Response:
    if not intake.enabled(ctx.tenant):
        return render(ctx, "admin/questionnaire.html", current=None, title="Questionnaire", **extra)
    current = await intake.current(ctx.intake)
    return render(
        ctx,
        "admin/questionnaire.html",
        status=422 if extra.get("errors") else 200,
        current=current,
        title="Questionnaire",
        **extra,
    )


@pages.page("/admin/questionnaire", methods=["POST"], access=ADMIN)
async def import_questionnaire(ctx: Ctx) -> Response:
    text = ctx.form.get("resource", "")
    try:
        form = await intake.replace_questionnaire(ctx.intake, text, actor=ctx.me)
    except InvalidInput as exc:
        return await _questionnaire_page(
            ctx, errors=exc.fields, summary=exc.message, values={"resource": text}
        )
    return redirect(
        ctx, "/admin/questionnaire", notice=f"“{form.title}” is now the intake questionnaire."
    )


@pages.page("/admin/questionnaire.json", access=ADMIN)
async def export_questionnaire(ctx: Ctx) -> Response:
    current = await intake.current(ctx.intake)
    return Response(
        json.dumps(current.row.resource, indent=2),
        media_type="application/fhir+json",
        headers={"Content-Disposition": 'attachment; filename="questionnaire.json"'},
    )


@pages.page("/admin/outbox", access=ADMIN)
async def dead_jobs(ctx: Ctx) -> Response:
    found = await outbox.dead_letters(ctx.db)
    return render(ctx, "admin/outbox.html", jobs=found, title="Messages and jobs that failed")


@pages.page("/admin/outbox/{job_id:uuid}/retry", methods=["POST"], access=ADMIN)
async def retry_job(ctx: Ctx) -> Response:
    job_id: uuid.UUID = ctx.request.path_params["job_id"]
    retried = await outbox.retry_dead(ctx.db, job_id)
    if not retried and not await outbox.is_known(ctx.db, job_id):
        raise NotFound("We could not find that job.")  # another clinic's answers as a guess
    await ctx.db.commit()
    notice = "It will be tried again in a moment." if retried else "That job is no longer waiting."
    return redirect(ctx, "/admin/outbox", notice=notice)
