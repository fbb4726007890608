"""The conformance kit: every built-in passes it, and it names what a faulty plugin breaks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from praxis.core.plugins import load_plugins
from praxis.core.providers.conformance import problems
from praxis.core.providers.manifest import DataCategory, DataUse
from tests.provider_fixtures import plugin_settings

PLUGINS = load_plugins()


class _Servers:
    """Example settings need URLs only; nothing is called."""

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{9000 + index}"


@pytest.mark.parametrize("name", sorted(PLUGINS.manifests))
async def test_every_built_in_plugin_conforms(name: str, tmp_path: Path) -> None:
    settings = plugin_settings(_Servers(), tmp_path)  # type: ignore[arg-type]
    async with httpx.AsyncClient() as http:
        found = problems(
            PLUGINS.manifests[name], PLUGINS.factories.get(name), settings[name], http=http
        )
    assert found == []


@pytest.mark.promise("P20")
async def test_a_manifest_that_declares_less_than_is_sent_is_named(tmp_path: Path) -> None:
    manifest = PLUGINS.manifests["sms_twilio"]
    quiet = manifest.model_copy(
        update={
            "data": (
                DataUse(
                    operation="send_message",
                    categories=(DataCategory.PHONE,),
                    purpose="reminders",
                    legal_basis="contract",
                ),
            )
        }
    )
    settings = plugin_settings(_Servers(), tmp_path)["sms_twilio"]  # type: ignore[arg-type]
    async with httpx.AsyncClient() as http:
        found = problems(quiet, PLUGINS.factories["sms_twilio"], settings, http=http)
    assert found == [
        "sms_twilio: the manifest must declare appointment for send_message (the platform sends "
        "them, and the privacy notice is made from the manifest)"
    ]


async def test_a_provider_without_the_protocol_methods_is_named(tmp_path: Path) -> None:
    manifest = PLUGINS.manifests["video_whereby"]
    settings = plugin_settings(_Servers(), tmp_path)["video_whereby"]  # type: ignore[arg-type]
    async with httpx.AsyncClient() as http:
        found = problems(manifest, lambda context: object(), settings, http=http)
        unregistered = problems(manifest, None, settings, http=http)
    assert len(found) == 1 and "does not implement VideoProvider" in found[0]
    assert "create_meeting" in found[0]
    assert unregistered == [
        "video_whereby registers no provider (implement praxis_register_providers)"
    ]
