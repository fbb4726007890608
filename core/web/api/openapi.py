"""The OpenAPI 3.1 document, built from the operations table and the pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from praxis.core.web.api.schemas import ErrorOut
from praxis.core.web.api.table import PREFIX, ApiTable, Operation
from praxis.core.web.context import SESSION_COOKIE, Access, Cookies

_CONVERTER = re.compile(r"\{(\w+):\w+\}")
_REF = "#/components/schemas/{model}"
_STATUS_WORDS = {
    400: "The body is not valid JSON",
    401: "Not signed in, or wrong credentials",
    403: "Not allowed (role, CSRF token, or policy)",
    404: "Not found (including anything of another clinic)",
    409: "Conflict with the current state (e.g. the slot was just taken)",
    415: "The body must be application/json",
    422: "Some fields are invalid; see error.fields",
    429: "Too many attempts; see Retry-After",
}


OPENAPI_PATH = PREFIX + "/openapi.json"
_SELF: dict[str, Any] = {
    "operationId": "openapi",
    "summary": "This document (OpenAPI 3.1)",
    "responses": {
        "200": {
            "description": "Success",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
}


def build_openapi(table: ApiTable, *, session_cookie: str = SESSION_COOKIE) -> dict[str, Any]:
    """The document; ``session_cookie`` is the cookie's real name (``__Host-`` in production)."""
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {OPENAPI_PATH: {"get": _SELF}}
    for op in table.operations:
        path = PREFIX + _CONVERTER.sub(r"{\1}", op.path)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, schemas)
    _add_schema(ErrorOut, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Praxis API",
            "version": "1",
            "description": "A clinic's portal as JSON. Sign in with POST /api/v1/auth/login; "
            "the session cookie then authenticates, and POST requests carry X-CSRF-Token.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": session_cookie},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }


def _add_schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=_REF, mode="serialization")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _add_input(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=_REF, mode="validation")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _success(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    if op.produces != "application/json":  # a file: its bytes, described by its type
        return {op.produces: {"schema": {"type": "string", "contentMediaType": op.produces}}}
    return {"application/json": {"schema": _add_schema(op.response, schemas)}}


def _operation(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"},
            }
            for name in _CONVERTER.findall(op.path)
        ]
        + [
            {
                "name": q.name,
                "in": "query",
                "required": q.required,
                "description": q.description,
                "schema": {"type": "string", **({"format": q.format} if q.format else {})},
            }
            for q in op.query
        ],
        "responses": {str(op.status): {"description": "Success", "content": _success(op, schemas)}},
    }
    error_ref = {"$ref": _REF.format(model="ErrorOut")}
    for status in op.errors:
        body["responses"][str(status)] = {
            "description": _STATUS_WORDS.get(status, "Error"),
            "content": {"application/json": {"schema": error_ref}},
        }
    if op.body is not None:
        body["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _add_input(op.body, schemas)}},
        }
    if op.access is not Access.PUBLIC:
        body["security"] = (
            [{"session": [], "csrf": []}] if op.method != "GET" else [{"session": []}]
        )
    return body


def openapi_endpoint(table: ApiTable) -> Any:
    documents: dict[bool, dict[str, Any]] = {}

    async def openapi(request: Request) -> Response:
        secure: bool = request.app.state.runtime.settings.secure_cookies
        if secure not in documents:
            cookie = Cookies(secure).name(SESSION_COOKIE)
            documents[secure] = build_openapi(table, session_cookie=cookie)
        return JSONResponse(documents[secure])

    return openapi
