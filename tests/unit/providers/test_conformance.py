"""The conformance kit: every built-in passes it, and it names what a faulty plugin breaks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from praxis.core.plugins import load_plugins
from praxis.core.providers.common import ProviderContext, WebhookReply, WebhookRequest
from praxis.core.providers.conformance import offered, problems, static_problems
from praxis.core.providers.kinds import KINDS
from praxis.core.providers.manifest import DataCategory, DataUse
from praxis.core.providers.sms import MessageErasure, SmsMessage, SmsReceipt
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


# --- optional operations (plugin API 1.2) -----------------------------------------------------


class Texts:
    """An SMS provider of plugin API 1.0: every method of the Protocol, no optional one."""

    webhook_reply = WebhookReply()

    def __init__(self, context: ProviderContext[Any]) -> None:
        self.context = context

    async def send_message(self, message: SmsMessage) -> SmsReceipt:
        return SmsReceipt(message_id="SM1", status="queued")

    def parse_webhook(self, request: WebhookRequest) -> None:
        return None


class ErasesWell(Texts):
    async def erase_message(self, request: MessageErasure) -> None:
        return None


class ErasesInStep(Texts):
    def erase_message(self, request: MessageErasure) -> None:  # not async
        return None


class ErasesById(Texts):
    async def erase_message(self, request: str) -> None:
        return None


class ErasesTwoThings(Texts):
    async def erase_message(self, request: MessageErasure, why: str) -> None:
        return None


class ErasesAndAnswers(Texts):
    async def erase_message(self, request: MessageErasure) -> SmsReceipt:
        return SmsReceipt(message_id="SM1", status="deleted")


TWILIO = PLUGINS.manifests["sms_twilio"]


@pytest.mark.parametrize("provider", [Texts, ErasesWell], ids=["leaves it out", "offers it"])
def test_an_optional_operation_may_be_left_out_or_offered(provider: type) -> None:
    assert static_problems(TWILIO, provider) == []
    has = offered(KINDS["sms"], provider)
    assert has == ([] if provider is Texts else ["erase_message"])
    assert [op.name for op in KINDS["sms"].optional] == ["erase_message"]


@pytest.mark.parametrize(
    ("provider", "why"),
    [
        (ErasesInStep, "it must be an async method"),
        (ErasesById, "it takes a str, not a MessageErasure"),
        (ErasesTwoThings, "it must take one argument, the MessageErasure"),
        (ErasesAndAnswers, "it must return None"),
    ],
    ids=["not async", "another request", "two arguments", "a result"],
)
async def test_an_optional_operation_with_another_signature_is_named(
    provider: type, why: str, tmp_path: Path
) -> None:
    wanted = "async def erase_message(self, request: MessageErasure) -> None"
    expected = [f"sms_twilio: its optional erase_message is not `{wanted}` ({why})"]
    assert static_problems(TWILIO, provider) == expected
    # A factory that is not a class is checked once built, the same way.
    settings = plugin_settings(_Servers(), tmp_path)["sms_twilio"]  # type: ignore[arg-type]
    async with httpx.AsyncClient() as http:
        built = problems(TWILIO, lambda context: provider(context), settings, http=http)
    assert built == expected
