"""Declaring API operations: one decorator registers the route and its OpenAPI description.

Errors are always ``{"error": {"code", "message", "fields"}}`` with the right status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from praxis.core.accounts.fields import parse
from praxis.core.errors import ServiceError, TooManyAttempts
from praxis.core.untrusted import UnreadableJson, read_json
from praxis.core.web.context import (
    SAFE_METHODS,
    Access,
    CsrfRejected,
    Ctx,
    EnrolmentRequired,
    Forbidden,
    SecondFactorPending,
    SignInRequired,
    WrongSite,
    authorise,
    refuse_control_characters,
    request_context,
)

PREFIX = "/api/v1"
Handler = Callable[..., Awaitable[tuple[int, BaseModel] | Response]]


@dataclass(frozen=True)
class QueryParam:
    name: str
    description: str
    required: bool = False
    format: str | None = None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    name: str
    summary: str
    access: Access
    body: type[BaseModel] | None
    response: type[BaseModel]
    status: int
    errors: tuple[int, ...]
    query: tuple[QueryParam, ...] = ()
    enrolment_step: bool = False  # staff who must still set up two-step may use it
    one_transaction: bool = False  # the sign-in lookup runs in the write (context.py)
    produces: str = "application/json"  # a download names its own type (application/zip)


def error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return JSONResponse(body, status_code=status)


_REFUSALS: dict[type[Exception], tuple[int, str, str]] = {
    SignInRequired: (401, "sign_in_required", "Sign in first (POST /api/v1/auth/login)."),
    SecondFactorPending: (
        401,
        "second_factor_required",
        "Give the code from your authenticator app as well.",
    ),
    EnrolmentRequired: (
        403,
        "second_factor_setup_required",
        "Staff must set up two-step sign-in first, in the browser under Account.",
    ),
    Forbidden: (403, "forbidden", "Your account cannot use this endpoint."),
    CsrfRejected: (
        403,
        "csrf_failed",
        "Send the X-CSRF-Token header given at sign-in (or by GET /api/v1/me).",
    ),
}


def refusal(exc: Exception) -> Response:
    """The API's usual answer to a refusal the pages also give (sign in, enrol first...)."""
    return error(*_REFUSALS[type(exc)])


@dataclass
class ApiTable:
    routes: list[Route] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        response: type[BaseModel],
        access: Access = Access.PUBLIC,
        body: type[BaseModel] | None = None,
        status: int = 200,
        errors: Sequence[int] = (),
        query: Sequence[QueryParam] = (),
        enrolment_step: bool = False,
        one_transaction: bool = False,
        produces: str = "application/json",
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            op = Operation(
                method=method,
                path=path,
                name=handler.__name__,
                summary=summary,
                access=access,
                body=body,
                response=response,
                status=status,
                errors=tuple(sorted({*errors, *_implied_errors(access, body, method)})),
                query=tuple(query),
                enrolment_step=enrolment_step,
                one_transaction=one_transaction,
                produces=produces,
            )
            self.operations.append(op)

            async def endpoint(request: Request) -> Response:
                return await _run(request, handler, op)

            self.routes.append(Route(path, endpoint, methods=[method], name=op.name))
            return handler

        return register


def _implied_errors(access: Access, body: type[BaseModel] | None, method: str) -> set[int]:
    implied = {404}
    if access is not Access.PUBLIC:
        implied |= {401, 403}
    if body is not None:
        implied |= {400, 415, 422}
    if method not in SAFE_METHODS:
        implied.add(403)
    return implied


async def _run(request: Request, handler: Handler, op: Operation) -> Response:
    try:
        async with request_context(request, "tenant", one_transaction=op.one_transaction) as ctx:
            try:
                response = await _call(ctx, handler, op)
            except tuple(_REFUSALS) as exc:
                response = refusal(exc)
            except ServiceError as exc:
                response = error(exc.status, exc.code, exc.message, getattr(exc, "fields", None))
                if isinstance(exc, TooManyAttempts):
                    response.headers["Retry-After"] = str(exc.retry_after)
            return ctx.finish(response)
    except WrongSite:
        return error(404, "not_found", "Not found.")


async def _call(ctx: Ctx, handler: Handler, op: Operation) -> Response:
    refuse_control_characters(ctx)
    # A cookie-signed-in caller proves the request is its own with the CSRF header;
    # anonymous JSON calls cannot be forged cross-site (no CORS is offered).
    authorise(
        ctx,
        op.access,
        csrf_token=ctx.request.headers.get("x-csrf-token"),
        csrf_required=ctx.token is not None,
        enrolment_step=op.enrolment_step,
    )
    args: list[Any] = []
    if op.body is not None:
        media_type = ctx.request.headers.get("content-type", "").split(";", 1)[0]
        if media_type.strip().lower() != "application/json":
            return error(415, "unsupported_media_type", "Send the body as application/json.")
        try:
            raw = read_json(await ctx.request.body() or b"null")
        except UnreadableJson as exc:
            return error(400, "invalid_json", exc.message)
        if not isinstance(raw, dict):
            return error(400, "invalid_json", "Send a JSON object.")
        args.append(parse(op.body, raw, region=ctx.region))
    result = await handler(ctx, *args)
    if isinstance(result, Response):
        return result
    status, payload = result
    return JSONResponse(payload.model_dump(mode="json"), status_code=status)
