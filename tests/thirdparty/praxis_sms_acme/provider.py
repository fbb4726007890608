"""``AcmeSms``: one JSON call per text, through the client the platform gives us."""

from __future__ import annotations

import httpx

from praxis.core.providers.common import (
    PermanentFailure,
    ProviderContext,
    TemporaryFailure,
    WebhookReply,
    WebhookRequest,
)
from praxis.core.providers.sms import SmsInbound, SmsMessage, SmsReceipt, SmsStatusUpdate
from praxis_sms_acme.settings import AcmeSettings


class AcmeSms:
    """An ``SmsProvider``. Acme takes an idempotency key, so a retry never texts twice."""

    webhook_reply = WebhookReply()

    def __init__(self, context: ProviderContext[AcmeSettings]) -> None:
        self._http = context.http
        self._url = str(context.settings.api_base_url).rstrip("/") + "/v1/messages"
        self._key = context.settings.api_key.get_secret_value()
        self._sender = context.settings.sender

    async def send_message(self, message: SmsMessage) -> SmsReceipt:
        try:
            answer = await self._http.post(
                self._url,
                json={"to": message.to, "from": self._sender, "text": message.body},
                headers={
                    "Authorization": f"Bearer {self._key}",
                    "Idempotency-Key": message.idempotency_key,
                },
            )
        except httpx.TimeoutException:
            raise TemporaryFailure("Acme SMS did not answer in time") from None
        except httpx.TransportError as exc:
            raise TemporaryFailure(f"could not reach Acme SMS ({type(exc).__name__})") from None
        if answer.status_code == 429 or answer.status_code >= 500:
            raise TemporaryFailure(f"Acme SMS answered {answer.status_code}")
        if answer.status_code == 409:
            raise PermanentFailure(
                "the recipient unsubscribed at Acme SMS", code=PermanentFailure.OPTED_OUT
            )
        if answer.status_code >= 400:
            raise PermanentFailure(f"Acme SMS refused the message (HTTP {answer.status_code})")
        sent = answer.json()
        return SmsReceipt(message_id=str(sent["id"]), status=str(sent["status"]))

    def parse_webhook(self, request: WebhookRequest) -> SmsStatusUpdate | SmsInbound | None:
        return None  # Acme sends no delivery reports
