"""A clinic admin's "send a test" for each provider: a text to a number they type, an email to
an address they type, a video room made and removed at once. Each goes through the facade, so
each is in the ledger like any disclosure (what was sent, never the number or words)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from praxis.core.errors import ProviderNotReady
from praxis.core.plugins.facade import Facade
from praxis.core.providers.common import DataCategory, ProviderError

PURPOSE = (
    "a test a clinic admin asked for, to check the provider works",
    "legitimate interests (checking the clinic's own set-up)",
)


class TrialFailed(Exception):
    """The test did not get through; the message says why, in words for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _key() -> str:
    return f"test-{uuid.uuid4()}"


async def text(facade: Facade, to: str, clinic: str) -> str:
    body = f"A test message from {clinic}'s Praxis set-up. No reply is needed."
    try:
        receipt = await facade.sms.send(
            subject_id=None,
            to=to,
            body=body,
            about=(DataCategory.PHONE,),
            idempotency_key=_key(),
            attempt=1,
            purpose=PURPOSE,
        )
    except (ProviderError, ProviderNotReady) as exc:
        raise TrialFailed(_why(exc)) from None
    return f"Test text accepted by the provider (message {receipt.message_id})."


async def email(facade: Facade, to: str, clinic: str) -> str:
    try:
        receipt = await facade.email.send(
            subject_id=None,
            to=to,
            subject=f"Test email from {clinic}",
            text=f"A test email from {clinic}'s Praxis set-up. No reply is needed.\n",
            about=(DataCategory.EMAIL,),
            idempotency_key=_key(),
            purpose=PURPOSE,
        )
    except (ProviderError, ProviderNotReady) as exc:
        raise TrialFailed(_why(exc)) from None
    return f"Test email accepted by the provider (message {receipt.message_id})."


async def room(facade: Facade, admin_id: uuid.UUID, now: datetime) -> str:
    key = _key()
    try:
        meeting = await facade.video.create_meeting(
            subject_id=admin_id, ends_at=now + timedelta(minutes=15), idempotency_key=key, attempt=1
        )
        await facade.video.delete_meeting(meeting_id=meeting.meeting_id, idempotency_key=key)
    except (ProviderError, ProviderNotReady) as exc:
        raise TrialFailed(_why(exc)) from None
    return f"Test room {meeting.meeting_id} made and removed again."


def _why(exc: Exception) -> str:
    if isinstance(exc, ProviderNotReady):
        return "This provider is not ready: finish its settings first."
    reason = exc.reason if isinstance(exc, ProviderError) else "no answer"
    return f"The test did not get through: {reason}"
