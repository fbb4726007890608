"""``HeronSms``: one JSON call per text, with the platform's idempotency key.

Heron keeps an idempotency key for seven days and answers a repeat with the first message
(``Idempotent-Replayed: true``), so a retry never texts anyone twice, and can say whether an
earlier attempt whose answer was lost had in fact sent the text.
"""

from __future__ import annotations

import httpx
from praxis.core.providers.common import (
    AnswerLost,
    PermanentFailure,
    ProviderContext,
    TemporaryFailure,
    WebhookReply,
    WebhookRequest,
)
from praxis.core.providers.sms import SmsInbound, SmsMessage, SmsReceipt, SmsStatusUpdate
from pydantic import BaseModel, Field, ValidationError

from praxis_sms_heron.settings import HeronSettings
from praxis_sms_heron.webhooks import delivery_report, inbound_text, verify

OPTED_OUT = "recipient_opted_out"  # Heron's error code for a number that replied STOP


class _Sent(BaseModel):
    id: str = Field(min_length=1)
    status: str = Field(min_length=1)


class HeronSms:
    """An ``SmsProvider`` for one clinic's Heron account."""

    webhook_reply = WebhookReply()  # Heron wants any 2xx

    def __init__(self, context: ProviderContext[HeronSettings]) -> None:
        settings = context.settings
        self._http = context.http
        self._url = str(settings.api_base_url).rstrip("/") + "/v1/messages"
        self._key = settings.api_key.get_secret_value()
        self._secret = settings.signing_secret.get_secret_value().encode()
        self._sender = settings.sender
        self._status_url = context.webhook_url + "/status"

    async def send_message(self, message: SmsMessage) -> SmsReceipt:
        response = await self._post(
            {
                "to": message.to,
                "from": self._sender,
                "text": message.body,
                "status_url": message.status_callback_url or self._status_url,
            },
            idempotency_key=message.idempotency_key,
        )
        _raise_for_status(response)
        try:
            sent = _Sent.model_validate(response.json())
        except (ValueError, ValidationError):  # the error would quote the body: leave it out
            raise TemporaryFailure("Heron sent an answer the plugin could not read") from None
        replayed = response.headers.get("idempotent-replayed") == "true"
        return SmsReceipt(
            message_id=sent.id,  # what Heron's delivery reports call message_id
            status=sent.status,
            # on a retry: True if Heron had the text already (an earlier attempt sent it)
            recovered=replayed if message.attempt > 1 else None,
        )

    def parse_webhook(self, request: WebhookRequest) -> SmsStatusUpdate | SmsInbound | None:
        header = request.headers.get("heron-signature")
        verify(header, request.url, request.body, self._secret, request.received_at)
        if request.topic == "status":  # .../webhook/status: what send_message asked for
            return delivery_report(request.body, opted_out_code=OPTED_OUT)
        if request.topic == "inbound":  # .../webhook/inbound: set on the number at Heron
            return inbound_text(request.body)
        return None

    async def _post(self, body: dict[str, str], *, idempotency_key: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._key}", "Idempotency-Key": idempotency_key}
        try:
            return await self._http.post(self._url, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout):  # nothing was sent
            raise TemporaryFailure("Heron could not be reached") from None
        except httpx.TimeoutException:  # sent, perhaps: the retry's key settles it
            raise AnswerLost("Heron did not answer in time") from None
        except httpx.TransportError:
            raise AnswerLost("Heron's answer was lost on the way back") from None


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        wait = response.headers.get("retry-after", "")
        raise TemporaryFailure(
            "Heron is limiting our requests (429)",
            retry_after=float(wait) if wait.isdigit() else None,
        )
    if status >= 500:
        raise TemporaryFailure(f"Heron failed to send the text ({status})")
    if status == 401:
        raise PermanentFailure(
            "Heron refused the API key (401): check it in the SMS settings", code="unauthorized"
        )
    code = _error_code(response)
    if code == OPTED_OUT:
        # the platform opts the number out: nothing more is sent to it until it says START
        raise PermanentFailure("the recipient has unsubscribed", code=PermanentFailure.OPTED_OUT)
    # the reason names Heron's code, never the number or the text
    raise PermanentFailure(f"Heron refused the text ({status}, {code or 'no code'})", code=code)


def _error_code(response: httpx.Response) -> str | None:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) and code.isidentifier() else None
