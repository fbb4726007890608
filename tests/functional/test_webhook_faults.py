"""A plugin that misreads a webhook fails alone, named: a crash in parse_webhook or an event
that does not fit its DTO is answered 500 (the provider retries later), changes nothing,
and the log names the plugin, never the body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from praxis.core.config import Settings
from praxis.core.hookspecs import PluginManifest, hookimpl
from praxis.core.providers.common import WebhookRejected
from praxis.core.providers.video import AttendanceEvent
from praxis.core.runtime import Runtime
from praxis.core.testing import app as app_with
from praxis.core.webhooks import WebhookEvent
from praxis.tenants.directory import TenantInfo
from tests.conftest import client_for
from tests.probe import SCRIPT, ProbePlugin, ProbeRooms
from tests.provider_fixtures import use_providers
from tests.support import count_rows, make_clinic

BODY = b'{"patient": "Jane Example"}'


class ReadingRooms(ProbeRooms):
    def parse_webhook(self, request: Any) -> Any:
        answer = SCRIPT.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


class ReadingPlugin:
    __name__ = "praxis_video_probe"

    @hookimpl
    def praxis_manifest(self) -> PluginManifest:
        return ProbePlugin().praxis_manifest()

    @hookimpl
    def praxis_register_providers(self) -> Any:
        return ReadingRooms


@pytest.fixture
async def probe_app(settings: Settings) -> AsyncIterator[Any]:
    SCRIPT.answers.clear()
    application = app_with(settings, ReadingPlugin())
    async with application.router.lifespan_context(application):
        yield application


async def post_webhook(app: Any) -> tuple[httpx.Response, Runtime, TenantInfo]:
    rt: Runtime = app.state.runtime
    clinic = await make_clinic(rt, "alpha")
    tenant = await use_providers(rt, clinic.tenant.id, {"video": "video_probe"})
    async with client_for(app, clinic.host) as http:
        answer = await http.post("/-/plugins/video_probe/webhook", content=BODY)
    return answer, rt, tenant


@pytest.mark.parametrize(
    ("read", "logged"),
    [
        (KeyError("Jane Example"), '"operation": "parse_webhook", "error": "KeyError"'),
        ({"event_id": "e1"}, "returned a dict, not a AttendanceEvent"),
        (
            AttendanceEvent("e1", "joined", "room-1", datetime.now(), "host"),
            "occurred_at: Input should have timezone info",
        ),
        (AttendanceEvent("", "joined", "room-1", datetime.now(UTC), "host"), "event_id"),
    ],
    ids=["a crash", "a dict", "a naive time", "no event id"],
)
async def test_a_webhook_the_plugin_misreads_is_a_500_named_and_changes_nothing(
    probe_app: Any, capsys: pytest.CaptureFixture[str], read: Any, logged: str
) -> None:
    SCRIPT.answers.append(read)
    answer, rt, tenant = await post_webhook(probe_app)
    assert answer.status_code == 500 and "try again later" in answer.text
    out = capsys.readouterr()
    text = out.out + out.err
    assert "video_probe" in text and logged in text
    assert "Jane" not in text
    assert await count_rows(rt, _clinic(tenant), WebhookEvent) == 0


async def test_a_rejected_webhook_is_still_a_400(probe_app: Any) -> None:
    SCRIPT.answers.append(WebhookRejected("bad signature"))
    answer, _rt, _tenant = await post_webhook(probe_app)
    assert answer.status_code == 400


def _clinic(tenant: TenantInfo) -> Any:
    return type("Clinic", (), {"tenant": tenant})()
