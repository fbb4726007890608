"""The Messages calls this plugin makes (create, list, delete), typed, through the official SDK."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from twilio.rest import Client  # type: ignore[import-untyped]

from praxis.plugins.sms_twilio.errors import SdkFailure, is_gone, provider_error
from praxis.plugins.sms_twilio.settings import MESSAGING_SERVICE_SID
from praxis.plugins.sms_twilio.transport import HttpxTwilioClient

# A non-empty mapping, so the SDK reads no TWILIO_EDGE / TWILIO_REGION from the environment.
_NO_ENVIRONMENT = {"TWILIO_EDGE": "", "TWILIO_REGION": ""}


@dataclass(frozen=True)
class Sender:
    """Who a message is from: a number, or a Messaging Service (MG...) that picks one."""

    value: str

    @property
    def is_messaging_service(self) -> bool:
        return bool(MESSAGING_SERVICE_SID.match(self.value))

    def parameters(self) -> dict[str, str]:
        """The SDK's keyword for this kind of sender."""
        if self.is_messaging_service:
            return {"messaging_service_sid": self.value}
        return {"from_": self.value}


@dataclass(frozen=True)
class TwilioMessage:
    """A Message resource, reduced to what this plugin reads."""

    sid: str
    status: str
    direction: str | None
    to: str | None
    from_: str | None
    messaging_service_sid: str | None
    body: str | None
    date_created: datetime | None

    def is_from(self, sender: Sender) -> bool:
        if sender.is_messaging_service:
            return self.messaging_service_sid == sender.value
        return self.from_ == sender.value


class TwilioMessages:
    """Messages of one Twilio account. Failures raise the platform's ProviderError kinds."""

    def __init__(
        self, *, account_sid: str, auth_token: str, http: httpx.AsyncClient, origin: str
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._http = http
        self._origin = origin

    async def create(
        self, *, to: str, sender: Sender, body: str, status_callback: str
    ) -> TwilioMessage:
        transport = self._transport()
        try:
            instance = await self._client(transport).messages.create_async(
                to=to, body=body, status_callback=status_callback, **sender.parameters()
            )
        except SdkFailure as exc:
            # the SDK's message can quote the phone number: keep it out of tracebacks
            raise provider_error(exc, retry_after=transport.retry_after) from None
        return _message(instance)

    async def sent_to(self, to: str, *, limit: int) -> list[TwilioMessage]:
        """The ``limit`` newest messages to ``to``, newest first."""
        transport = self._transport()
        try:
            instances = await self._client(transport).messages.list_async(to=to, limit=limit)
        except SdkFailure as exc:
            raise provider_error(exc, retry_after=transport.retry_after) from None
        return [_message(instance) for instance in instances]

    async def delete(self, sid: str) -> None:
        """Delete the Message resource (its body, number and log entry); one already gone
        counts as deleted, so a retry after a lost answer succeeds."""
        transport = self._transport()
        try:
            await self._client(transport).messages(sid).delete_async()
        except SdkFailure as exc:
            if is_gone(exc):
                return
            raise provider_error(exc, retry_after=transport.retry_after) from None

    def _transport(self) -> HttpxTwilioClient:
        return HttpxTwilioClient(self._http, self._origin)

    def _client(self, transport: HttpxTwilioClient) -> Any:
        return Client(
            self._account_sid,
            self._auth_token,
            http_client=transport,
            environment=_NO_ENVIRONMENT,
        )


def _message(instance: Any) -> TwilioMessage:
    return TwilioMessage(
        sid=str(instance.sid),
        status=str(instance.status),
        direction=instance.direction,
        to=instance.to,
        from_=instance.from_,
        messaging_service_sid=instance.messaging_service_sid,
        body=instance.body,
        date_created=instance.date_created,
    )
