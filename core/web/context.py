"""The request context every page and API endpoint gets, and the decorators that build it.

One place decides, for every endpoint: which site it belongs to (a tenant's or
the platform's; the other answers 404), who is signed in, whether they may see
it, and whether an unsafe request carries a valid CSRF token.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.requests import Request
from starlette.responses import Response

from praxis.core.accounts import operator_alerts
from praxis.core.accounts.models import Operator, Role, User
from praxis.core.accounts.sessions import Signed
from praxis.core.config import Settings
from praxis.core.crypto import token_digest
from praxis.core.db import enter_write_mode, utcnow
from praxis.core.errors import InvalidInput
from praxis.core.intake.services import Desk
from praxis.core.plugins.facade import Facade
from praxis.core.runtime import Runtime
from praxis.core.untrusted import has_control_characters
from praxis.tenants.directory import PlatformSite, Site, TenantInfo

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SiteKind = Literal["tenant", "platform"]


class Access(enum.Enum):
    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    CONSUMER = "consumer"
    PROFESSIONAL = "professional"
    CLINIC_ADMIN = "clinic_admin"
    STAFF = "staff"  # Professionals and clinic admins
    FRONT_DESK = "front_desk"  # clinic admins and front desk: patients' records and bookings
    OPERATOR = "operator"


class WrongSite(Exception):
    """The endpoint does not exist on this host: 404."""


class SignInRequired(Exception):
    pass


class SecondFactorPending(Exception):
    """Password accepted, code not yet given."""


class EnrolmentRequired(Exception):
    """Staff must set up their second factor before anything else."""


class Forbidden(Exception):
    pass


class CsrfRejected(Exception):
    pass


@dataclass
class Cookies:
    """Cookie names and attributes: __Host- prefixed and Secure outside local use."""

    secure: bool

    def name(self, base: str) -> str:
        return f"__Host-{base}" if self.secure else base

    def set(self, response: Response, base: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(
            self.name(base),
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def clear(self, response: Response, base: str) -> None:
        response.delete_cookie(
            self.name(base), path="/", secure=self.secure, httponly=True, samesite="lax"
        )


SESSION_COOKIE = "praxis_session"
CSRF_COOKIE = "praxis_csrf"
NOTICE_COOKIE = "praxis_notice"
CHOICE_COOKIE = "praxis_cookie_choice"  # accept or reject analytics cookies: strictly necessary
DEVICE_COOKIE = "praxis_device"  # a browser the account signed in with: lockouts spare it
SIGN_IN_FLOW_COOKIE = "praxis_sign_in_flow"  # staff sign-in at the clinic's provider
VISITOR_COOKIE = "praxis_visitor"  # the analytics cookie: set only after acceptance (P08)


@dataclass
class Ctx:
    request: Request
    rt: Runtime
    site: Site
    cookies: Cookies
    user: User | None = None
    operator: Operator | None = None
    token: str | None = None
    mfa_pending: bool = False
    second_factor_by_provider: bool = False  # this session's MFA was the sign-in provider's
    pending: User | Operator | None = None  # password given, second factor not yet
    form: dict[str, str] = field(default_factory=dict)
    form_items: list[tuple[str, str]] = field(default_factory=list)  # repeated names too
    files: dict[str, bytes] = field(default_factory=dict)  # only on pages that take uploads
    after: list[Callable[[Response], None]] = field(default_factory=list)
    writing: bool = False
    privacy_banner: Any = None  # a notice version the signed-in consumer has not yet read
    cookie_choice: str | None = None  # accept, reject or undecided; None: no analytics here
    _db: AsyncSession | None = None

    @property
    def db(self) -> AsyncSession:
        """The request's session, opened on first use: many pages never need one."""
        if self._db is None:
            tenant_id = self.site.id if isinstance(self.site, TenantInfo) else None
            self._db = self.rt.database.session(tenant_id, write=self.writing)
        return self._db

    @property
    def tenant(self) -> TenantInfo:
        if not isinstance(self.site, TenantInfo):
            raise WrongSite()
        return self.site

    @property
    def tenant_or_none(self) -> TenantInfo | None:
        return self.site if isinstance(self.site, TenantInfo) else None

    @property
    def prefix(self) -> str:
        """Where this site's shared pages (sign-in, account) live: "" or "/platform"."""
        return "" if isinstance(self.site, TenantInfo) else "/platform"

    @property
    def sessions(self) -> Any:
        """The session store of this site's accounts."""
        tenant_site = isinstance(self.site, TenantInfo)
        return self.rt.user_sessions if tenant_site else self.rt.operator_sessions

    @property
    def me(self) -> User:
        """The signed-in tenant account (pages that require one are guarded before this)."""
        if self.user is None:
            raise SignInRequired()
        return self.user

    @property
    def settings(self) -> Settings:
        return self.rt.settings

    @property
    def providers(self) -> Facade:
        """The clinic's providers: the one way to call them, each call in the ledger."""
        return self.rt.providers(self.tenant)

    @property
    def site_url(self) -> str:
        """The clinic's public address, for links and provider callbacks."""
        return self.settings.site_url(self.tenant.slug)

    @property
    def intake(self) -> Desk:
        """What the intake questionnaire's services use, for this clinic."""
        return Desk(self.rt.database, self.providers, self.rt.data_keys, self.tenant)

    @cached_property
    def now(self) -> datetime:
        return utcnow()

    @property
    def region(self) -> str:
        """Country used to read local phone numbers and postcodes (from the tenant locale)."""
        locale = self.tenant.locale if isinstance(self.site, TenantInfo) else "en_GB"
        return locale.rsplit("_", 1)[-1] if "_" in locale else "GB"

    @property
    def client(self) -> str:
        return self.request.client.host if self.request.client else "unknown"

    @cached_property
    def _csrf_nonce(self) -> str:
        nonce = self.request.cookies.get(self.cookies.name(CSRF_COOKIE))
        if nonce and 16 <= len(nonce) <= 64:
            return nonce
        nonce = secrets.token_urlsafe(24)
        self.after.append(lambda r: self.cookies.set(r, CSRF_COOKIE, nonce))
        return nonce

    def csrf(self) -> str:
        """The form token: bound to this browser's nonce and to its session, if any."""
        bound = token_digest(self.token) if self.token else ""
        return self.rt.keyring.sign("csrf", f"{self._csrf_nonce}|{bound}")

    def csrf_valid(self, supplied: str | None) -> bool:
        if not supplied or not self.request.cookies.get(self.cookies.name(CSRF_COOKIE)):
            return False
        return hmac.compare_digest(supplied, self.csrf())

    def sign_in_as(self, response: Response, token: str) -> None:
        max_age = self.settings.session_absolute_hours * 3600
        self.cookies.set(response, SESSION_COOKIE, token, max_age=max_age)

    def sign_out(self, response: Response) -> None:
        self.cookies.clear(response, SESSION_COOKIE)

    def finish(self, response: Response) -> Response:
        for step in self.after:
            step(response)
        alerts = operator_alerts.due(self._db)
        if alerts:  # after the response has gone: a slow relay never holds the request
            response.background = _also(
                response.background,
                BackgroundTask(operator_alerts.send, self.rt.platform_mail, alerts),
            )
        personal = self.token is not None or self.request.method not in SAFE_METHODS
        if personal and "cache-control" not in response.headers:
            # signed in, or answering what someone sent: it is theirs, so no cache keeps it
            response.headers["Cache-Control"] = "no-store"
        return response


def _also(first: BackgroundTask | None, then: BackgroundTask) -> BackgroundTask:
    """Run ``then`` after whatever the response already runs once it is sent."""
    if first is None:
        return then
    return BackgroundTasks([first, then])


def _site_matches(site: Site, kind: SiteKind) -> bool:
    return isinstance(site, PlatformSite) == (kind == "platform")


def _allowed(ctx: Ctx, access: Access) -> bool:
    if access is Access.PUBLIC:
        return True
    if access is Access.OPERATOR:
        return ctx.operator is not None
    if ctx.user is None:
        return False
    user = ctx.user
    # "has role X": one person may hold several (clinic admin and Professional)
    return {
        Access.SIGNED_IN: True,
        Access.CONSUMER: user.role_enum is Role.CONSUMER,
        Access.PROFESSIONAL: user.has_role(Role.PROFESSIONAL),
        Access.CLINIC_ADMIN: user.has_role(Role.CLINIC_ADMIN),
        Access.STAFF: user.has_role(Role.PROFESSIONAL) or user.has_role(Role.CLINIC_ADMIN),
        Access.FRONT_DESK: user.has_role(Role.CLINIC_ADMIN) or user.has_role(Role.FRONT_DESK),
    }[access]


async def _load_signed_in(ctx: Ctx) -> None:
    token = ctx.request.cookies.get(ctx.cookies.name(SESSION_COOKIE))
    if not token or len(token) > 128:
        return
    platform = isinstance(ctx.site, PlatformSite)
    signed: Signed[Any, Any] | None
    if platform:
        signed = await ctx.rt.operator_sessions.load(ctx.db, token)
    else:
        signed = await ctx.rt.user_sessions.load(ctx.db, token)
    if signed is None:
        ctx.after.append(ctx.sign_out)  # expired or revoked: drop the stale cookie
        return
    ctx.token = token
    ctx.mfa_pending = signed.row.mfa_pending
    ctx.second_factor_by_provider = signed.row.second_factor_by_provider
    owner = signed.owner
    if ctx.mfa_pending:
        ctx.pending = owner
    elif isinstance(owner, Operator):
        ctx.operator = owner
        structlog.contextvars.bind_contextvars(operator_id=str(owner.id))
    elif isinstance(owner, User):
        ctx.user = owner
        structlog.contextvars.bind_contextvars(user_id=str(owner.id))
    if signed.needs_touch:
        await _touch(ctx, token, platform)


async def _touch(ctx: Ctx, token: str, platform: bool) -> None:
    """Idle timeout: note activity in a short transaction of its own, or in the request's
    when it already holds the write lock (it is committed with the request's writes)."""
    store = ctx.rt.operator_sessions if platform else ctx.rt.user_sessions
    if ctx.writing:
        await store.touch(ctx.db, token)
        return
    tenant_id = None if platform else ctx.tenant.id
    async with ctx.rt.database.writing(tenant_id) as db:
        await store.touch(db, token)
        await db.commit()


def needs_enrolment(
    settings: Settings, account: User | Operator | None, *, second_factor_by_provider: bool = False
) -> bool:
    """Whether this account must set up two-step sign-in before anything else: not in a
    session whose sign-in provider asserted MFA (its other sessions are still asked)."""
    if not settings.staff_mfa_required or account is None or second_factor_by_provider:
        return False
    if isinstance(account, User) and not account.role_enum.is_staff:
        return False
    return account.totp_enabled_at is None


def _needs_enrolment(ctx: Ctx) -> bool:
    account = ctx.operator or ctx.user
    return needs_enrolment(
        ctx.settings, account, second_factor_by_provider=ctx.second_factor_by_provider
    )


@asynccontextmanager
async def request_context(
    request: Request, site: SiteKind, *, one_transaction: bool = False
) -> AsyncIterator[Ctx]:
    """Open the request's database session and learn who is signed in.

    An unsafe request's handler writes in a transaction that takes the write lock. With
    ``one_transaction`` the sign-in lookup already runs in it (two round trips fewer, for
    the hottest writes); only for handlers that write nothing through sessions of their
    own (the provider facade does), or SQLite would make those wait for this one.
    """
    rt: Runtime = request.app.state.runtime
    here: Site = request.scope["state"]["site"]
    if not _site_matches(here, site):
        raise WrongSite()
    ctx = Ctx(request, rt, here, Cookies(rt.settings.secure_cookies))
    unsafe = request.method not in SAFE_METHODS
    ctx.writing = unsafe and one_transaction
    try:
        await _load_signed_in(ctx)
        if unsafe and not ctx.writing:
            ctx.writing = True
            if ctx._db is not None:
                await ctx._db.commit()  # end the read; what the handler writes takes the lock
                enter_write_mode(ctx._db)
        yield ctx
    finally:
        if ctx._db is not None:
            await ctx._db.close()


def authorise(
    ctx: Ctx,
    access: Access,
    *,
    csrf_token: str | None,
    csrf_required: bool = True,
    second_factor_step: bool = False,
    enrolment_step: bool = False,
) -> None:
    """Raise unless this person may use this endpoint now, with this request."""
    unsafe = ctx.request.method not in SAFE_METHODS
    if unsafe and csrf_required and not ctx.csrf_valid(csrf_token):
        raise CsrfRejected()
    if ctx.mfa_pending and not second_factor_step:
        raise SecondFactorPending()
    if not _allowed(ctx, access):
        if ctx.user is None and ctx.operator is None:
            raise SignInRequired()
        raise Forbidden()
    if not enrolment_step and _needs_enrolment(ctx):
        raise EnrolmentRequired()


CONTROL_CHARACTERS = "Remove the control characters (such as NUL) from this field."


def refuse_control_characters(ctx: Ctx) -> None:
    """NUL and other control characters in the path, query or form: refused (422) before any
    database sees them (PostgreSQL fails on NUL), whatever the page or endpoint."""
    request = ctx.request
    fields: dict[str, str] = {}
    if has_control_characters(request.scope["path"]):
        fields["__all__"] = "Remove the control characters from the address."
    pairs = request.query_params.multi_items() if request.scope.get("query_string") else []
    for name, value in (*pairs, *ctx.form_items, *ctx.form.items()):
        if has_control_characters(name):
            fields["__all__"] = CONTROL_CHARACTERS
        elif has_control_characters(value):
            fields[name] = CONTROL_CHARACTERS
    if fields:
        raise InvalidInput(
            fields, "Remove the control characters (such as NUL) from what you sent and try again."
        )
