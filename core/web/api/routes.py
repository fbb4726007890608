"""API operations: the same actions as the portal (professionals, slots, appointments, me)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from praxis.core.accounts import photos, registration, security_log
from praxis.core.accounts.fields import parse
from praxis.core.accounts.forms import ConsumerRegistration, SignInCode
from praxis.core.accounts.models import User
from praxis.core.accounts.professionals import approved_professional, approved_professionals
from praxis.core.accounts.security_log import SecurityEventKind as Security
from praxis.core.accounts.signin import (
    WrongCredentials,
    check_second_factor,
    needs_second_factor,
    sign_in,
)
from praxis.core.booking import diary
from praxis.core.booking import services as booking
from praxis.core.booking.forms import OUTSIDE_DIARY, BookingRequest, in_diary
from praxis.core.booking.models import ConsultationType
from praxis.core.errors import InvalidInput
from praxis.core.privacy import restriction as restrictions
from praxis.core.privacy.closing import check_password, close_account
from praxis.core.privacy.erasure import request_erasure
from praxis.core.web import devices
from praxis.core.web.api.schemas import (
    AppointmentList,
    AppointmentOut,
    ClosedOut,
    ConsultationTypeOut,
    Done,
    LoginIn,
    MeOut,
    PasswordIn,
    ProfessionalDetailOut,
    ProfessionalList,
    ProfessionalOut,
    RestrictionIn,
    RestrictionOut,
    Slot,
    SlotList,
)
from praxis.core.web.api.table import ApiTable, QueryParam, error, refusal
from praxis.core.web.context import Access, Ctx, EnrolmentRequired, needs_enrolment

api = ApiTable()
CONSUMER = Access.CONSUMER


def _id(ctx: Ctx, name: str) -> uuid.UUID:
    value: uuid.UUID = ctx.request.path_params[name]
    return value


async def _signed_in(ctx: Ctx, user: User, status: int) -> Response:
    """Start a session, set its cookie, and answer with the account and its CSRF token."""
    if ctx.token:
        await ctx.rt.user_sessions.end(ctx.db, ctx.token)
    token = await ctx.rt.user_sessions.start(ctx.db, user, mfa_pending=False)
    await ctx.db.commit()
    ctx.token = token  # the CSRF token below is bound to the new session
    response = JSONResponse(MeOut.of(user, ctx.csrf()).model_dump(mode="json"), status)
    ctx.sign_in_as(response, token)
    return response


@api.operation(
    "POST",
    "/auth/login",
    summary="Sign in; sets the session cookie",
    body=LoginIn,
    response=MeOut,
    errors=(401, 403, 429),
)
async def login(ctx: Ctx, body: LoginIn) -> Response:
    try:
        user = await sign_in(
            ctx.db,
            User,
            realm=str(ctx.tenant.id),
            username=body.username,
            password=body.password,
            client=ctx.client,
            passwords=ctx.rt.passwords,
            throttle=ctx.rt.throttle,
            via="api",
            device=devices.known_device(ctx, str(ctx.tenant.id), body.username),
        )
    except WrongCredentials as exc:
        return error(401, exc.code, exc.message)
    realm, username = str(ctx.tenant.id), user.username
    ctx.after.append(lambda r: devices.remember_device(ctx, r, realm, username))
    if needs_second_factor(user):
        if not body.code:
            return error(
                401,
                "second_factor_required",
                "Give the code from your app, or one of your recovery codes, as 'code'.",
            )
        # As on the sign-in page: the same code format, and wrong codes count towards
        # the lockout, so a known password does not buy unlimited guesses.
        code = parse(SignInCode, {"code": body.code}).code
        await check_second_factor(
            ctx.db,
            user,
            code,
            ctx.rt.authenticator,
            throttle=ctx.rt.throttle,
            client=ctx.client,
        )
    if needs_enrolment(ctx.settings, user):
        # As the pages say: set up two-step sign-in first (in the browser); no profile, no session
        return refusal(EnrolmentRequired())
    return await _signed_in(ctx, user, 200)


@api.operation(
    "POST",
    "/auth/logout",
    summary="Sign out this session",
    response=Done,
    access=Access.SIGNED_IN,
    enrolment_step=True,  # as on the pages: signing out is always possible
)
async def logout(ctx: Ctx) -> tuple[int, BaseModel]:
    assert ctx.token is not None
    await ctx.rt.user_sessions.end(ctx.db, ctx.token)
    await ctx.db.commit()
    ctx.after.append(ctx.sign_out)
    return 200, Done()


@api.operation(
    "POST",
    "/auth/logout-everywhere",
    summary="Sign out every session of this account",
    response=Done,
    access=Access.SIGNED_IN,
    enrolment_step=True,  # as on the pages: signing out is always possible
)
async def logout_everywhere(ctx: Ctx) -> tuple[int, BaseModel]:
    await ctx.rt.user_sessions.end_all(ctx.db, ctx.me.id)
    security_log.note(ctx.db, Security.SIGNED_OUT_EVERYWHERE, ctx.me.id, via="api")
    await ctx.db.commit()
    ctx.after.append(ctx.sign_out)
    return 200, Done()


@api.operation(
    "POST",
    "/consumers",
    summary="Register as a consumer; signs you in",
    body=ConsumerRegistration,
    response=MeOut,
    status=201,
)
async def register(ctx: Ctx, body: ConsumerRegistration) -> Response:
    user = await registration.register_consumer(ctx.db, body, ctx.rt.passwords)
    return await _signed_in(ctx, user, 201)


@api.operation(
    "GET", "/me", summary="The signed-in account", response=MeOut, access=Access.SIGNED_IN
)
async def me(ctx: Ctx) -> tuple[int, BaseModel]:
    return 200, MeOut.of(ctx.me, ctx.csrf())


@api.operation("GET", "/professionals", summary="Approved Professionals", response=ProfessionalList)
async def professionals(ctx: Ctx) -> tuple[int, BaseModel]:
    found = await approved_professionals(ctx.db)
    shown = await photos.addresses(ctx.db, [p.id for p in found])
    return 200, ProfessionalList(data=[ProfessionalOut.of(p, shown.get(p.id)) for p in found])


@api.operation(
    "GET",
    "/professionals/{professional_id:uuid}",
    summary="One Professional and what they offer",
    response=ProfessionalDetailOut,
)
async def professional(ctx: Ctx) -> tuple[int, BaseModel]:
    pro = await approved_professional(ctx.db, _id(ctx, "professional_id"))
    kinds: list[ConsultationType] = await diary.consultation_types(ctx.db, pro.id)
    shown = await photos.addresses(ctx.db, [pro.id])
    base = ProfessionalOut.of(pro, shown.get(pro.id)).model_dump()
    return 200, ProfessionalDetailOut(
        **base, consultation_types=[ConsultationTypeOut.of(k) for k in kinds]
    )


def _query_date(ctx: Ctx, name: str, default: date) -> date:
    raw = ctx.request.query_params.get(name)
    if raw is None:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput({name: "Enter a date like 2026-12-01."}) from None
    if not in_diary(day):
        raise InvalidInput({name: OUTSIDE_DIARY})
    return day


def _query_uuid(ctx: Ctx, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(ctx.request.query_params.get(name, ""))
    except ValueError:
        raise InvalidInput(
            {name: "Give the id of one of the Professional's consultations."}
        ) from None


@api.operation(
    "GET",
    "/professionals/{professional_id:uuid}/slots",
    summary="Free start times",
    response=SlotList,
    errors=(422,),
    query=(
        QueryParam("consultation_type_id", "Which consultation", required=True, format="uuid"),
        QueryParam("from", "First day (clinic time zone); default today", format="date"),
        QueryParam("to", "Last day, at most 31 days after 'from'; default from + 6", format="date"),
    ),
)
async def slots(ctx: Ctx) -> tuple[int, BaseModel]:
    type_id = _query_uuid(ctx, "consultation_type_id")
    first = _query_date(ctx, "from", booking.today_in(ctx.tenant))
    last = _query_date(ctx, "to", first + timedelta(days=6))
    pro_id = _id(ctx, "professional_id")
    starts = await booking.slots(
        ctx.db,
        ctx.tenant,
        professional_id=pro_id,
        type_id=type_id,
        first_day=first,
        last_day=last,
        now=ctx.now,
    )
    kind = await booking.bookable_type(ctx.db, pro_id, type_id)
    length = timedelta(minutes=kind.duration_minutes)
    return 200, SlotList(
        professional_id=pro_id,
        consultation_type_id=type_id,
        timezone=ctx.tenant.timezone,
        data=[Slot(starts_at=s, ends_at=s + length) for s in starts],
    )


async def _appointment_out(ctx: Ctx, appointment_id: uuid.UUID) -> AppointmentOut:
    found = await booking.consumer_appointment(ctx.db, ctx.me.id, appointment_id)
    return AppointmentOut.of(found, booking.cancellable_until(ctx.tenant, found))


@api.operation(
    "GET",
    "/appointments",
    summary="My appointments, newest first",
    response=AppointmentList,
    access=CONSUMER,
)
async def appointments(ctx: Ctx) -> tuple[int, BaseModel]:
    mine = await booking.consumer_appointments(ctx.db, ctx.me.id)
    return 200, AppointmentList(
        data=[AppointmentOut.of(a, booking.cancellable_until(ctx.tenant, a)) for a in mine]
    )


@api.operation(
    "POST",
    "/appointments",
    summary="Book a free slot",
    body=BookingRequest,
    response=AppointmentOut,
    status=201,
    access=CONSUMER,
    errors=(409,),
    one_transaction=True,
)
async def book(ctx: Ctx, body: BookingRequest) -> tuple[int, BaseModel]:
    booked = await booking.book(ctx.db, ctx.tenant, ctx.me, body, now=ctx.now)
    return 201, await _appointment_out(ctx, booked.id)


@api.operation(
    "GET",
    "/appointments/{appointment_id:uuid}",
    summary="One of my appointments",
    response=AppointmentOut,
    access=CONSUMER,
)
async def appointment(ctx: Ctx) -> tuple[int, BaseModel]:
    return 200, await _appointment_out(ctx, _id(ctx, "appointment_id"))


@api.operation(
    "POST",
    "/appointments/{appointment_id:uuid}/cancel",
    summary="Cancel, within the clinic's cancellation window",
    response=AppointmentOut,
    access=CONSUMER,
    errors=(403, 409),
)
async def cancel(ctx: Ctx) -> tuple[int, BaseModel]:
    appointment_id = _id(ctx, "appointment_id")
    await booking.cancel_by_consumer(ctx.db, ctx.tenant, ctx.me, appointment_id, now=ctx.now)
    return 200, await _appointment_out(ctx, appointment_id)


@api.operation(
    "POST",
    "/me/close",
    summary="Close my account: sign-in stops, future bookings are cancelled, the data is "
    "erased after the clinic's retention period; signs out",
    body=PasswordIn,
    response=ClosedOut,
    access=CONSUMER,
)
async def close_me(ctx: Ctx, body: PasswordIn) -> tuple[int, BaseModel]:
    user = ctx.me
    await check_password(ctx.rt.passwords, user, body.password)
    closure = await close_account(ctx.db, ctx.tenant, user, now=ctx.now, by=user.id)
    await ctx.db.commit()
    ctx.after.append(ctx.sign_out)
    return 200, ClosedOut(closed_at=closure.closed_at, erased=False)


@api.operation(
    "DELETE",
    "/me",
    summary="Erase my account and data now (billing records stay for tax under a pseudonym); "
    "409 legal_hold: closed now, erased when the hold ends; signs out",
    body=PasswordIn,
    response=ClosedOut,
    access=CONSUMER,
    errors=(409,),
)
async def erase_me(ctx: Ctx, body: PasswordIn) -> tuple[int, BaseModel]:
    user = ctx.me
    await check_password(ctx.rt.passwords, user, body.password)
    ctx.after.append(ctx.sign_out)  # signed out whether erased now or held (closed either way)
    await request_erasure(ctx.db, ctx.tenant, user, now=ctx.now, by=user.id)
    return 200, ClosedOut(closed_at=ctx.now, erased=True)


@api.operation(
    "POST",
    "/me/restriction",
    summary="Restrict processing of my data (kept, nothing new done: no booking, message or "
    "provider call), or lift the restriction",
    body=RestrictionIn,
    response=RestrictionOut,
    access=CONSUMER,
)
async def restriction(ctx: Ctx, body: RestrictionIn) -> tuple[int, BaseModel]:
    user = ctx.me
    change = restrictions.restrict if body.restricted else restrictions.lift
    await change(ctx.db, ctx.tenant, user, by=user.id, now=ctx.now)
    await ctx.db.commit()
    return 200, RestrictionOut(restricted=body.restricted)
