"""A video plugin whose every answer a test scripts: the facade's tests and the webhook fault
tests drive it to misbehave in each way a third-party plugin might."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from praxis.core.hookspecs import DataCategory, DataUse, PluginManifest, Processor, hookimpl
from praxis.core.providers.common import ProviderContext, WebhookReply
from praxis.core.providers.video import Meeting, MeetingDeletion, MeetingRequest

PROCESSOR = "Probe Rooms Ltd"
LATER = datetime.now(UTC) + timedelta(days=1)


@dataclass
class Script:
    """What the probe plugin does on each call, in turn; then it answers well."""

    answers: list[Any] = field(default_factory=list)
    calls: int = 0


SCRIPT = Script()


def good(recovered: bool | None = None) -> Meeting:
    return Meeting("room-1", "https://rooms.example/r", "https://rooms.example/h", LATER, recovered)


class ProbeRooms:
    webhook_reply = WebhookReply()

    def __init__(self, context: ProviderContext[Any]) -> None:
        self.context = context

    async def create_meeting(self, request: MeetingRequest) -> Any:
        SCRIPT.calls += 1
        answer = SCRIPT.answers.pop(0) if SCRIPT.answers else good()
        if isinstance(answer, BaseException):
            raise answer
        if answer == "hang":
            await asyncio.sleep(60)
        return answer

    async def delete_meeting(self, request: MeetingDeletion) -> None:
        return None

    def parse_webhook(self, request: Any) -> None:
        return None


class ProbePlugin:
    __name__ = "praxis_video_probe"

    @hookimpl
    def praxis_manifest(self) -> PluginManifest:
        return PluginManifest(
            name="video_probe",
            kind="video",
            title="Probe rooms",
            version="1.0.0",
            requires=">=1.0,<2",
            processor=Processor(
                legal_name=PROCESSOR,
                country="GB",
                transfer_safeguard="UK: no transfer",
                privacy_policy_url="https://rooms.example/privacy",
            ),
            data=(
                DataUse(
                    operation="create_meeting",
                    categories=(DataCategory.APPOINTMENT,),
                    purpose="host the consultation",
                    legal_basis="contract",
                ),
            ),
        )

    @hookimpl
    def praxis_register_providers(self) -> Any:
        return ProbeRooms
