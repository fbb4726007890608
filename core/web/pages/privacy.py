"""Privacy on screen: each clinic's notice at /privacy with every past version and what
changed (P37, P36), the cookies page (P08), the platform's own notice (P38), and for clinic
admins the controller settings and the notice editor (P22)."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.responses import Response

from praxis.core.accounts.fields import parse
from praxis.core.errors import InvalidInput
from praxis.core.privacy import announce, notices, recipients
from praxis.core.privacy import controller as privacy_settings
from praxis.core.privacy.models import PrivacyNotice
from praxis.core.privacy.platform import platform_html
from praxis.core.privacy.recipients import Recipient
from praxis.core.privacy.template import DEFAULT_NOTICE, MARKERS
from praxis.core.web import visits
from praxis.core.web.context import Access, Ctx
from praxis.core.web.cookies import lifetime, listed
from praxis.core.web.routing import Pages, redirect, render, safe_next

pages = Pages()
ADMIN = Access.CLINIC_ADMIN


async def current_recipients(ctx: Ctx) -> list[Recipient]:
    """Who receives the clinic's data today, from what it really uses."""
    plugins = await recipients.enabled_plugins(ctx.db, ctx.tenant, ctx.rt.registry)
    return await recipients.current(
        ctx.db, plugins=plugins, infrastructure=ctx.settings.platform_processors
    )


def platform_notice_url(ctx: Ctx) -> str:
    return ctx.settings.site_url() + "/platform/privacy"


# --- the notice, for everyone -----------------------------------------------------------------


@pages.page("/privacy")
async def notice(ctx: Ctx) -> Response:
    shown = await notices.in_force(ctx.db, ctx.now)
    versions = await notices.published(ctx.db)
    upcoming = next(
        (v for v in versions if v.effective_at is not None and v.effective_at > ctx.now), None
    )
    if shown is None:  # nothing published yet: the standard notice, filled in as of today
        settings = privacy_settings.PrivacySettings(
            ctx.tenant.controller, ctx.tenant.retention, ctx.tenant.count_visits
        )
        body = notices.fill(DEFAULT_NOTICE, settings, await current_recipients(ctx))
    else:
        body = shown.body
    return render(
        ctx,
        "privacy/notice.html",
        shown=shown,
        body=notices.to_html(body),
        versions=[v for v in versions if v is not upcoming],
        upcoming=upcoming,
        platform_notice=platform_notice_url(ctx),
        title="Privacy notice",
    )


@pages.page("/privacy/versions/{number:int}")
async def past_version(ctx: Ctx) -> Response:
    number: int = ctx.request.path_params["number"]
    shown = await notices.version(ctx.db, number)
    before: PrivacyNotice | None = None
    if number > 1:
        before = await notices.version(ctx.db, number - 1)
    return render(
        ctx,
        "privacy/version.html",
        shown=shown,
        body=notices.to_html(shown.body),
        before=before,
        changes=notices.changes(before.body, shown.body) if before else [],
        title=f"Privacy notice, version {number}",
    )


@pages.page("/privacy/acknowledge", methods=["POST"], access=Access.CONSUMER)
async def acknowledge(ctx: Ctx) -> Response:
    raw = ctx.form.get("version", "")
    if not raw.isdigit():
        raise InvalidInput({"version": "Choose the version you read."})
    await notices.acknowledge(ctx.db, ctx.me, int(raw))
    await ctx.db.commit()
    target = safe_next(ctx.form.get("next"), "/")
    return redirect(ctx, target, notice="Thank you: we have noted that you read the new notice.")


def _cookies_page(ctx: Ctx, *, status: int = 200, **extra: Any) -> Response:
    settings = ctx.settings
    tenant = ctx.tenant_or_none
    counts_visits = tenant is not None and tenant.count_visits
    shown = [
        (
            cookie,
            lifetime(
                cookie,
                idle_minutes=settings.session_idle_minutes,
                absolute_hours=settings.session_absolute_hours,
            ),
        )
        for cookie in listed(counts_visits=counts_visits)
    ]
    return render(
        ctx,
        "privacy/cookies.html",
        status=status,
        cookies=shown,
        counts_visits=counts_visits,
        title="Cookies",
        **extra,
    )


@pages.page("/privacy/cookies")
async def cookies(ctx: Ctx) -> Response:
    return _cookies_page(ctx)


@pages.page("/privacy/cookies", methods=["POST"], name="cookie_choice")
async def choose_cookies(ctx: Ctx) -> Response:
    """Accept or reject analytics cookies, from any page's choice or the cookies page (P08)."""
    back = safe_next(ctx.form.get("next"), "/privacy/cookies")
    if not ctx.tenant.count_visits:
        return redirect(ctx, back, notice="This portal sets no analytics cookies.")
    choice = ctx.form.get("choice", "")
    if choice not in visits.CHOICES:
        wanted = {"choice": "Choose “Accept analytics cookies” or “Reject analytics cookies”."}
        return _cookies_page(ctx, status=422, errors=wanted)
    if await visits.choose(ctx, choice):
        await ctx.db.commit()
    if choice == visits.ACCEPT:
        said = "You accepted analytics cookies: thank you. You can change this on the Cookies page."
    else:
        said = "You rejected analytics cookies: none are set, and your visits are not counted."
    return redirect(ctx, back, notice=said)


@pages.page("/platform/privacy/cookies", site="platform")
async def platform_cookies(ctx: Ctx) -> Response:
    return _cookies_page(ctx)


@pages.page("/platform/privacy", site="platform")
async def platform_notice(ctx: Ctx) -> Response:
    settings = ctx.settings
    return render(
        ctx,
        "platform/privacy.html",
        body=platform_html(settings.platform_controller, settings.platform_processors),
        controller=settings.platform_controller,
        title="Platform privacy notice",
    )


# --- controller settings, for clinic admins ---------------------------------------------------


async def _admin_page(ctx: Ctx, *, status: int = 200, **extra: Any) -> Response:
    settings = await privacy_settings.current(ctx.db, ctx.tenant.id)
    versions = await notices.published(ctx.db)
    now = await current_recipients(ctx)
    extra.setdefault("values", settings.values())
    return render(
        ctx,
        "admin/privacy.html",
        status=status,
        versions=versions,
        in_force=await notices.in_force(ctx.db, ctx.now),
        draft=await notices.draft(ctx.db),
        due=notices.due(versions[0] if versions else None, settings, now),
        recipients=now,
        labels=privacy_settings.FIELD_LABELS,
        field_labels=privacy_settings.FIELD_LABELS,
        title="Privacy",
        **extra,
    )


@pages.page("/admin/privacy", access=ADMIN)
async def admin_privacy(ctx: Ctx) -> Response:
    return await _admin_page(ctx)


@pages.page("/admin/privacy", methods=["POST"], access=ADMIN)
async def save_settings(ctx: Ctx) -> Response:
    try:
        wanted = privacy_settings.read_form(ctx.form)
    except InvalidInput as exc:
        values = {k: v for k, v in ctx.form.items() if k != "csrf_token"}
        return await _admin_page(
            ctx, status=422, errors=exc.fields, summary=exc.message, values=values
        )
    changed = await privacy_settings.save(ctx.db, ctx.tenant.id, wanted, actor=ctx.me)
    if not changed:
        return redirect(ctx, "/admin/privacy", notice="Nothing changed.")
    await ctx.db.commit()
    ctx.rt.directory.forget_all()  # the portal's footer and notice show the new details
    names = ", ".join(privacy_settings.FIELD_LABELS[n].lower() for n in changed)
    return redirect(
        ctx,
        "/admin/privacy",
        notice=f"Saved: {names}. Publish a new version of the notice to tell your patients.",
    )


# --- the notice editor ------------------------------------------------------------------------


async def _editor(ctx: Ctx, source: str, *, status: int = 200, **extra: Any) -> Response:
    settings = await privacy_settings.current(ctx.db, ctx.tenant.id)
    preview = ""
    try:
        notices.check_source(source)
        preview = notices.to_html(notices.fill(source, settings, await current_recipients(ctx)))
    except InvalidInput:
        pass  # the error is shown beside the text; no preview of a notice that cannot be used
    extra.setdefault("values", {"source": source, "effective_on": ctx.now.date().isoformat()})
    return render(
        ctx,
        "admin/privacy_notice.html",
        status=status,
        preview=preview,
        markers=MARKERS,
        draft=await notices.draft(ctx.db),
        field_labels={"source": "The notice", "effective_on": "Takes effect on"},
        title="Edit the privacy notice",
        **extra,
    )


@pages.page("/admin/privacy/notice", access=ADMIN)
async def edit_notice(ctx: Ctx) -> Response:
    return await _editor(ctx, await notices.draft_source(ctx.db))


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


@pages.page("/admin/privacy/notice", methods=["POST"], access=ADMIN)
async def change_notice(ctx: Ctx) -> Response:
    source = ctx.form.get("source", "")
    action = ctx.form.get("action", "preview")
    values = {k: v for k, v in ctx.form.items() if k not in ("csrf_token", "action")}
    if action == "standard":
        return await _editor(ctx, DEFAULT_NOTICE, notice="The standard notice: not yet saved.")
    try:
        if action == "publish":
            settings = await privacy_settings.current(ctx.db, ctx.tenant.id)
            row = await notices.publish(
                ctx.db,
                ctx.tenant,
                source,
                effective_on=_day(ctx.form.get("effective_on", "")),
                settings=settings,
                recipients=await current_recipients(ctx),
                actor=ctx.me,
                now=ctx.now,
            )
        else:
            await notices.save_draft(ctx.db, source, actor=ctx.me)
    except InvalidInput as exc:
        return await _editor(
            ctx, source, status=422, errors=exc.fields, summary=exc.message, values=values
        )
    emailed = False
    if action == "publish":
        assert row.version is not None
        emailed = announce.stage_announcement(ctx.db, ctx.tenant, row.version)
    await ctx.db.commit()
    if action == "publish":
        told = " Your patients are being emailed about it." if emailed else ""
        return redirect(
            ctx,
            "/admin/privacy",
            notice=f"Version {row.version} of the notice is published.{told}",
        )
    return redirect(ctx, "/admin/privacy/notice", notice="Draft saved; the preview is below.")


# --- service announcements (P14) --------------------------------------------------------------


async def _announcement_page(ctx: Ctx, *, status: int = 200, **extra: Any) -> Response:
    extra.setdefault("preview", "")
    extra.setdefault("subject", "")
    return render(
        ctx,
        "admin/announcement.html",
        status=status,
        audience=await announce.audience(ctx.db),
        sends_email=bool(ctx.tenant.providers.get("email")),
        field_labels={"subject": "Subject", "message": "Message"},
        title="Tell your patients",
        **extra,
    )


@pages.page("/admin/announcements", access=ADMIN)
async def announcement_form(ctx: Ctx) -> Response:
    return await _announcement_page(ctx)


@pages.page("/admin/announcements", methods=["POST"], access=ADMIN)
async def send_announcement(ctx: Ctx) -> Response:
    values = {k: v for k, v in ctx.form.items() if k not in ("csrf_token", "action")}
    try:
        form = parse(announce.Announcement, ctx.form, region=ctx.region)
    except InvalidInput as exc:
        return await _announcement_page(
            ctx, status=422, errors=exc.fields, summary=exc.message, values=values
        )
    if not ctx.tenant.providers.get("email"):
        return redirect(ctx, "/admin/providers", notice="Choose an email provider first.")
    if ctx.form.get("action") != "send":
        preview = announce.announcement_text(ctx.tenant, form.message, ctx.site_url)
        return await _announcement_page(ctx, values=values, preview=preview, subject=form.subject)
    announce.stage_service_announcement(ctx.db, ctx.tenant, form)
    await ctx.db.commit()
    return redirect(
        ctx, "/admin", notice="Your announcement is on its way to every patient with an account."
    )
