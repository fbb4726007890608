"""schemathesis against /api/v1/openapi.json, anonymous and signed in: no answer is a 5xx,
none breaks the schema. Bounded: a fixed number of cases an operation, from a fixed seed."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import client_for
from tests.support import Clinic, api_login

CASES = 2  # per operation and mode: drawing costs ~0.1 s a case, sending ~5 ms
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
LAST = ("logout", "logout_everywhere")  # signing out ends the signed-in run's session


def cases(strategy: Any) -> list[Any]:
    """CASES cases from one strategy, drawn without any I/O, the same ones every run."""
    drawn: list[Any] = []

    @settings(
        max_examples=CASES,
        derandomize=True,  # the seed: the same cases on every machine
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(case: Any) -> None:
        drawn.append(case)

    with contextlib.suppress(Unsatisfiable):  # nothing to get wrong: no parameters, no body
        draw()
    return drawn


def strategies(operation: Any) -> list[Any]:
    """Valid cases, and invalid ones."""
    return [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]


async def send(http: httpx.AsyncClient, case: Any, headers: dict[str, str]) -> httpx.Response:
    sent = case.as_transport_kwargs(base_url=str(http.base_url).rstrip("/"), headers=headers)
    sent.pop("cookies", None)  # the client's own: the signed-in session
    body = {k: sent.pop(k) for k in ("json", "data") if k in sent}
    if "data" in body and not isinstance(body["data"], dict):
        body = {"content": body["data"]}
    return await http.request(
        sent.pop("method"),
        sent.pop("url"),
        params=sent.get("params"),
        headers=sent.get("headers"),
        **body,
    )


_DRAWN: dict[str, list[Any]] = {}  # per process: drawing is the slow part, sending is not


def all_cases(document: dict[str, Any]) -> list[Any]:
    """Every operation's cases, signing out last; drawn once and shared by both runs."""
    key = json.dumps(document, sort_keys=True)
    if key not in _DRAWN:
        schema = schemathesis.openapi.from_dict(document)
        operations = [result.ok() for result in schema.get_all_operations()]
        operations.sort(key=lambda op: op.definition.raw.get("operationId") in LAST)
        _DRAWN[key] = [case for op in operations for s in strategies(op) for case in cases(s)]
    return _DRAWN[key]


async def fuzz(http: httpx.AsyncClient, headers: dict[str, str]) -> int:
    drawn = all_cases((await http.get("/api/v1/openapi.json")).json())
    for case in drawn:
        response = await send(http, case, headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
    return len(drawn)


async def test_the_api_answers_anyone_within_its_schema(app: Any, clinic: Clinic) -> None:
    async with client_for(app, clinic.host) as anonymous:
        assert await fuzz(anonymous, {}) > 60


async def test_the_api_answers_a_signed_in_consumer_within_its_schema(
    app: Any, clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as consumer:
        headers = await api_login(consumer, clinic.consumer.username)
        assert await fuzz(consumer, headers) > 60
