"""The clinic's privacy notice, versioned (P37): a draft admins edit and preview, published
with an effective date and never changed again; the [[markers]] filled in from the clinic's
controller details, retention periods and generated recipients (P22, P36) when published."""

from __future__ import annotations

import difflib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.accounts.models import User
from praxis.core.db import utcnow
from praxis.core.errors import InvalidInput, NotFound
from praxis.core.ledger import CATEGORY_WORDS, Entry, EventKind, RecipientKind, Status
from praxis.core.privacy.controller import PrivacySettings
from praxis.core.privacy.models import NoticeAcknowledgement, PrivacyNotice
from praxis.core.privacy.recipients import Difference, Recipient, difference
from praxis.core.privacy.template import (
    COOKIES_NECESSARY,
    COOKIES_WITH_ANALYTICS,
    DEFAULT_NOTICE,
    REQUIRED_MARKERS,
)
from praxis.tenants.directory import TenantInfo
from praxis.tenants.schema import Controller, Retention

SOURCE_MAX = 100_000
PUBLISHED = "notice_published"  # the ledger's operation when a version is published
_TAGS = {
    "a", "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code", "pre",
    "blockquote", "table", "thead", "tbody", "tr", "th", "td", "br", "hr",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")
_H1 = re.compile(r"<(/?)h1>")
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def escape(text: str) -> str:
    """Text from settings or a Professional's name, shown literally in Markdown."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(text.split()))


def link_to(target: str) -> str:
    """An https address or an email as a link; anything else as plain text."""
    if re.fullmatch(r"https://[^\s<>]+", target):
        return f"<{target}>"
    if re.fullmatch(r"[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+", target):
        return f"<{target}>"
    return escape(target)


def to_html(markdown: str) -> str:
    """Markdown to HTML a clinic's words cannot break out of: no raw HTML, no script, only
    the tags a notice needs; an h1 becomes h2 (the page has its own title)."""
    rendered = _H1.sub(r"<\1h2>", _markdown.render(markdown))
    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"https", "http", "mailto"},
        link_rel="noopener noreferrer",
    )


# --- the markers ------------------------------------------------------------------------------


def _controller_text(controller: Controller) -> str:
    number = (
        f" (registered number {escape(controller.registered_number)})"
        if controller.registered_number
        else ""
    )
    return (
        f"**{escape(controller.legal_name)}**{number}, of {escape(controller.address)}, is the "
        "data controller of the personal data described here: we decide how and why it is "
        f"used. We are registered with the Information Commissioner's Office under number "
        f"{escape(controller.ico_registration)}."
    )


def _words(categories: Sequence[str]) -> str:
    return ", ".join(CATEGORY_WORDS.get(c, c) for c in categories) or "nothing about you"


def _recipients_text(recipients: Sequence[Recipient]) -> str:
    if not recipients:
        return "Nobody outside the clinic."
    rows = [
        "| Who | What they do for us | What they receive | Why | Where |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in recipients:
        rows.append(
            f"| {escape(r.name)} | {escape(r.role)} | {escape(_words(r.categories))} "
            f"| {escape('; '.join(r.purposes))} | {escape(r.country)} |"
        )
    return "\n".join(rows)


def _transfers_text(recipients: Sequence[Recipient]) -> str:
    abroad = [r for r in recipients if r.abroad]
    if not abroad:
        return "Your data stays in the United Kingdom."
    lines = ["Some recipients are outside the United Kingdom; each transfer is protected:", ""]
    for r in abroad:
        lines.append(f"- **{escape(r.name)}** ({escape(r.country)}): {escape(r.safeguard)}")
    return "\n".join(lines)


def _retention_text(retention: Retention) -> str:
    return "\n".join(
        [
            "- **Your account and everything in it:** while your account is open, and "
            f"{retention.closed_account_months} months after you close it; then it is erased.",
            f"- **Billing records:** {retention.billing_years} years, because tax law requires "
            "it, even after everything else is erased. Your name in them is then replaced by "
            "a reference.",
            "- **If we stop using this portal:** everything it holds for us is erased "
            f"{retention.tenant_exit_months} months after we leave.",
        ]
    )


def _contact_text(controller: Controller) -> str:
    ico = "https://ico.org.uk/make-a-complaint/"
    route = controller.complaints_route
    lines = [
        f"Our data protection contact: {link_to(controller.dpo_contact)}.",
        "",
        f"If you are unhappy with how we handle your data, tell us first: {link_to(route)}.",
        "",
        "You have the right to complain to the **Information Commissioner's Office (ICO)**, "
        f"the UK's data protection regulator: {link_to(ico)}, or call 0303 123 1113.",
    ]
    if route.rstrip("/") == ico.rstrip("/"):
        lines[2] = "If you are unhappy with how we handle your data, please tell us first."
    return "\n".join(lines)


def fill(source: str, settings: PrivacySettings, recipients: Sequence[Recipient]) -> str:
    """The notice's Markdown with every marker replaced by what it stands for now."""
    parts = {
        "[[controller]]": _controller_text(settings.controller),
        "[[recipients]]": _recipients_text(recipients),
        "[[transfers]]": _transfers_text(recipients),
        "[[retention]]": _retention_text(settings.retention),
        "[[cookies]]": COOKIES_WITH_ANALYTICS if settings.count_visits else COOKIES_NECESSARY,
        "[[contact]]": _contact_text(settings.controller),
    }
    for marker, text in parts.items():
        source = source.replace(marker, text)
    return source


def snapshot(settings: PrivacySettings, recipients: Sequence[Recipient]) -> dict[str, Any]:
    return {
        "controller": settings.controller.model_dump(mode="json"),
        "retention": settings.retention.model_dump(mode="json"),
        "count_visits": settings.count_visits,
        "recipients": [r.as_dict() for r in recipients],
    }


# --- versions ---------------------------------------------------------------------------------


async def published(db: AsyncSession) -> list[PrivacyNotice]:
    """Every published version, the newest first."""
    query = select(PrivacyNotice).where(PrivacyNotice.version.is_not(None))
    return list((await db.scalars(query.order_by(PrivacyNotice.version.desc()))).all())


async def in_force(db: AsyncSession, now: datetime | None = None) -> PrivacyNotice | None:
    """The version in force at ``now``: the newest whose effective time has come."""
    moment = now or utcnow()
    query = (
        select(PrivacyNotice)
        .where(PrivacyNotice.version.is_not(None), PrivacyNotice.effective_at <= moment)
        .order_by(PrivacyNotice.version.desc())
        .limit(1)
    )
    return (await db.scalars(query)).first()


async def number_in_force(db: AsyncSession, now: datetime | None = None) -> int | None:
    """The version a consent given now is given under (None: the clinic has none yet)."""
    notice = await in_force(db, now)
    return notice.version if notice is not None else None


async def version(db: AsyncSession, number: int) -> PrivacyNotice:
    found = await db.scalar(select(PrivacyNotice).where(PrivacyNotice.version == number))
    if found is None:
        raise NotFound("There is no such version of the privacy notice.")
    return found


async def draft(db: AsyncSession) -> PrivacyNotice | None:
    return await db.scalar(select(PrivacyNotice).where(PrivacyNotice.version.is_(None)))


async def draft_source(db: AsyncSession) -> str:
    """What the editor starts from: the draft, else the newest version, else the standard."""
    found = await draft(db)
    if found is not None:
        return found.source
    versions = await published(db)
    return versions[0].source if versions else DEFAULT_NOTICE


def check_source(source: str) -> str:
    source = source.replace("\r\n", "\n").strip()
    if not source:
        raise InvalidInput({"source": "Write the notice, or start again from the standard one."})
    if len(source) > SOURCE_MAX:
        raise InvalidInput({"source": f"This is too long (at most {SOURCE_MAX} characters)."})
    missing = [m for m in REQUIRED_MARKERS if m not in source]
    if missing:
        raise InvalidInput(
            {
                "source": f"Keep {' and '.join(missing)} in the notice: Praxis writes those "
                "parts (who receives data, how to contact you and complain) so they are "
                "always true."
            }
        )
    return source + "\n"


async def save_draft(db: AsyncSession, source: str, *, actor: User) -> PrivacyNotice:
    """Keep the admin's edit as the draft (checked first; the caller commits)."""
    text = check_source(source)
    found = await draft(db)
    if found is None:
        found = PrivacyNotice(id=uuid.uuid4(), version=None, source=text)
        db.add(found)
    found.source = text
    found.updated_at = utcnow()
    found.updated_by = actor.id
    await db.flush()
    return found


def effective_moment(tenant: TenantInfo, day: date, now: datetime) -> datetime:
    """From the start of that day in the clinic's time zone, and never before now."""
    start = datetime.combine(day, time.min, tenant.zone)
    return max(start, now)


async def publish(
    db: AsyncSession,
    tenant: TenantInfo,
    source: str,
    *,
    effective_on: date | None,
    settings: PrivacySettings,
    recipients: Sequence[Recipient],
    actor: User,
    now: datetime | None = None,
) -> PrivacyNotice:
    """Number and freeze a new version; the ledger says who published which, and when it
    takes effect. The caller commits."""
    moment = now or utcnow()
    today = moment.astimezone(tenant.zone).date()
    errors: dict[str, str] = {}
    try:
        text = check_source(source)
    except InvalidInput as exc:
        errors.update(exc.fields)
    if effective_on is None:
        errors["effective_on"] = "Enter the date it takes effect, like 2026-12-01."
    elif effective_on < today:
        errors["effective_on"] = "Choose today or a later date: a notice cannot apply backwards."
    if errors:
        raise InvalidInput(errors)
    assert effective_on is not None
    versions = await published(db)
    number = (versions[0].version or 0) + 1 if versions else 1
    row = await draft(db)
    if row is None:
        row = PrivacyNotice(id=uuid.uuid4())
        db.add(row)
    row.version = number
    row.source = text
    row.body = fill(text, settings, recipients)
    row.snapshot = snapshot(settings, recipients)
    row.effective_at = effective_moment(tenant, effective_on, moment)
    row.published_at = moment
    row.published_by = actor.id
    row.updated_at = moment
    row.updated_by = actor.id
    await db.flush()
    await ledger.append(
        db,
        Entry(
            kind=EventKind.POLICY,
            status=Status.RECORDED,
            recipient=tenant.name[:200],
            recipient_kind=RecipientKind.OTHER,
            operation=PUBLISHED,
            categories=[],
            purpose="a new version of the privacy notice",
            legal_basis="transparency (UK GDPR Art. 12 to 14)",
            actor_id=actor.id,
            reason=f"version {number}, in force from {effective_on.isoformat()}",
        ),
        now=moment,
    )
    return row


def recipients_of(notice: PrivacyNotice) -> list[Recipient]:
    return [Recipient.from_dict(r) for r in notice.snapshot.get("recipients", [])]


@dataclass(frozen=True)
class Due:
    """Why the notice needs a new version: recipients or settings changed since the newest,
    or visits are counted and its cookies section does not say so (no [[cookies]] in it)."""

    unpublished: bool
    recipients: Difference
    settings: list[str]
    cookies_unsaid: bool = False

    def __bool__(self) -> bool:
        return (
            self.unpublished or bool(self.recipients) or bool(self.settings) or self.cookies_unsaid
        )


def due(
    newest: PrivacyNotice | None, settings: PrivacySettings, recipients: Sequence[Recipient]
) -> Due:
    if newest is None:
        return Due(True, difference([], recipients), [])
    before = {
        **newest.snapshot.get("controller", {}),
        **newest.snapshot.get("retention", {}),
        "count_visits": newest.snapshot.get("count_visits", False),  # older versions: off
    }
    now = settings.as_stored()
    changed = sorted(name for name in now if before.get(name) != now[name])
    unsaid = settings.count_visits and "[[cookies]]" not in newest.source
    return Due(False, difference(recipients_of(newest), recipients), changed, unsaid)


def changes(before: str, after: str) -> list[tuple[str, str]]:
    """Line by line, what a version changed: ("added" | "removed" | "same", line)."""
    marks = {"+": "added", "-": "removed", " ": "same"}
    found = []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line[:1] in marks:
            found.append((marks[line[:1]], line[2:]))
    return found


# --- acknowledgements (P37, P14) --------------------------------------------------------------


async def unacknowledged(
    db: AsyncSession, user: User, now: datetime | None = None
) -> PrivacyNotice | None:
    """The version in force, if it took effect after this person registered and they have
    not yet acknowledged it (the one they saw at registration needs no banner)."""
    current = await in_force(db, now)
    if current is None or current.version is None or current.effective_at is None:
        return None
    if current.effective_at <= user.created_at:
        return None
    seen = await db.get(NoticeAcknowledgement, (user.tenant_id, user.id, current.version))
    return None if seen is not None else current


async def acknowledge(db: AsyncSession, user: User, number: int) -> bool:
    """Record that the person read version ``number`` (once; the caller commits)."""
    await version(db, number)
    if await db.get(NoticeAcknowledgement, (user.tenant_id, user.id, number)) is not None:
        return False
    db.add(NoticeAcknowledgement(user_id=user.id, version=number, acknowledged_at=utcnow()))
    await db.flush()
    return True
